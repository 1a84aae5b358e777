"""How an export connects to PostgreSQL: its connection string (DATABASE_URL with options
appended, which libpq itself then parses: query parameters of a URI, or keywords of a key=value
string, where a later keyword overrides an earlier one), and its readers' connections.

No import beyond the standard library's: the head start (`head_start`) uses it before the rest.
"""

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# Connections that read slices of the range side by side (EXPORT_DATABASE_CONNECTIONS), each a
# backend sending rows and a reader thread writing them: with 2, one writes while the other waits
# for PostgreSQL (1M rows on a 2-core machine: 12.3 s on 1, 9.5 s on 2). Raise it where both
# sides have cores.
DEFAULT_READERS = 2
MAX_READERS = 16

# A path that went dead (a node's network lost, a NAT entry dropped) sends no reset. A query
# waiting for rows has nothing unacknowledged, so keepalives notice (probing after 10 s of
# silence, every 5 s, 3 times); a query just sent is unacknowledged, which the user timeout
# bounds. Either way the wait ends with an error (and the Job's retry) after ~25 s instead of
# the kernel's two hours (or 15 minutes of retransmits). A busy connection is never silent that
# long, so a long export is not cut short.
_DEAD_PATH = {"keepalives": "1", "keepalives_idle": "10", "keepalives_interval": "5",
              "keepalives_count": "3", "tcp_user_timeout": "25000"}  # fmt: skip
_URI_SCHEMES = ("postgresql://", "postgres://")


def export_conninfo(database_url: str, export_id: int) -> str:
    """DATABASE_URL with the export's name in pg_stat_activity, a connect timeout, and an end
    to waits on a dead path."""
    options = {
        "connect_timeout": "15",
        "application_name": f"company-exporter/{export_id}",
        **_DEAD_PATH,
    }
    if database_url.startswith(_URI_SCHEMES):
        url = urlsplit(database_url)
        query = parse_qsl(url.query, keep_blank_values=True) + list(options.items())
        return urlunsplit(url._replace(query=urlencode(query)))
    return " ".join([database_url, *(f"{key}={value}" for key, value in options.items())])
