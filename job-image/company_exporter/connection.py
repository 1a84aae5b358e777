"""The libpq options of every connection an export opens (its snapshot holder and its readers)."""

from psycopg.conninfo import make_conninfo

# A path that went dead (a node's network lost, a NAT entry dropped) sends no reset. A query
# waiting for rows has nothing unacknowledged, so keepalives notice (probing after 10 s of
# silence, every 5 s, 3 times); a query just sent is unacknowledged, which the user timeout
# bounds. Either way the wait ends with an error (and the Job's retry) after ~25 s instead of
# the kernel's two hours (or 15 minutes of retransmits). A busy connection is never silent that
# long, so a long export is not cut short.
_DEAD_PATH = {"keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5,
              "keepalives_count": 3, "tcp_user_timeout": 25_000}  # fmt: skip


def export_conninfo(database_url: str, export_id: int) -> str:
    """DATABASE_URL with the export's name in pg_stat_activity, a connect timeout, and an end
    to waits on a dead path."""
    return make_conninfo(
        database_url,
        connect_timeout=15,
        application_name=f"company-exporter/{export_id}",
        **_DEAD_PATH,
    )
