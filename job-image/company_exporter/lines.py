"""A page of raw `companies` columns (Arrow, read by ADBC) -> NDJSON lines, byte for byte the
lines `export_database.company_json.COMPANY_JSON` has PostgreSQL build.

PostgreSQL's per-row JSON building was the export's limit (one backend, one core); here it only
sends columns and one polars expression writes every line in compiled code, beside it on the
other cores, with no Python per row. Why each piece is exact:

- strings, integers, NULLs and `text[]` go through polars' `struct.json_encode`, whose string
  escapes are PostgreSQL's `escape_json` table (`\\"`, `\\\\`, `\\b \\f \\n \\r \\t`, other
  bytes below 0x20 as lowercase `\\u00xx`, everything else raw, U+2028 included);
- `numeric` arrives as PostgreSQL's own text of it (the source query casts it: numeric_out, the
  text `row_to_json` embeds, scale kept: `1234.50`; and ADBC's conversion of the binary value
  measured ~0.5 s of CPU per 1M rows), written unquoted as `row_to_json` does; NaN and the
  infinities, not JSON numbers, are quoted as it quotes them;
- `jsonb` arrives as its canonical text (what `row_to_json` embeds) and is embedded as it is;
- timestamps are written in UTC with the sub-second digits trimmed of trailing zeros, as
  `to_json` writes them, then `Z`.

Rows whose values polars could not write the same way (multi-dimensional or non-1-based arrays,
years outside 0001..9999) are rare; the source query has PostgreSQL build those lines itself
(`PG_LINE`), so one path serves every row. The byte-for-byte agreement is tested against
COMPANY_JSON on hostile values (tests/exporter/test_lines.py); the polars version is pinned
exactly because its escape table is its code, not a promise.
"""

import polars as pl

from export_database.company_json import COMPANY_FIELDS

# Fields written from their own text: numbers as PostgreSQL prints them, and jsonb.
NUMERIC_FIELDS = frozenset({"annual_revenue"})
# The numeric values that are not JSON numbers, as row_to_json writes them.
_NOT_NUMBERS = {"NaN": '"NaN"', "Infinity": '"Infinity"', "-Infinity": '"-Infinity"'}
JSON_FIELDS = frozenset({"custom_attributes"})
TIMESTAMP_FIELDS = frozenset({"created_at", "updated_at"})
# The column holding the line PostgreSQL built for a row polars must not write (else NULL).
PG_LINE = "pg_line"


def _encoded(fields: list[str]) -> pl.Expr:
    """`"a":1,"b":"x"` for consecutive plain fields: their object without its braces."""
    return pl.struct(fields).struct.json_encode().str.strip_prefix("{").str.strip_suffix("}")


def _value(field: str) -> pl.Expr:
    column = pl.col(field)
    if field in NUMERIC_FIELDS:  # PostgreSQL's text of the value
        return column.replace(_NOT_NUMBERS).fill_null("null")
    if field in JSON_FIELDS:  # ADBC tags the column as Arrow's JSON extension over its text
        return column.ext.storage().fill_null("null")
    # %.6f always writes six digits; to_json trims the zeros, and the point when all are zero
    # (the digits always follow a point, so stripping zeros never reaches the seconds).
    fraction = column.dt.strftime("%Y-%m-%dT%H:%M:%S%.6f").str.strip_chars_end("0")
    seconds = fraction.str.strip_suffix(".")
    return pl.concat_str([pl.lit('"'), seconds, pl.lit('Z"')]).fill_null("null")


def _line_expression() -> pl.Expr:
    pieces: list[pl.Expr] = []
    plain: list[str] = []
    for field in COMPANY_FIELDS:
        if field not in NUMERIC_FIELDS | JSON_FIELDS | TIMESTAMP_FIELDS:
            plain.append(field)
            continue
        if plain:
            pieces += [pl.lit("," if pieces else "{"), _encoded(plain)]
            plain = []
        pieces += [pl.lit(f',"{field}":' if pieces else f'{{"{field}":'), _value(field)]
    if plain:
        pieces += [pl.lit("," if pieces else "{"), _encoded(plain)]
    pieces.append(pl.lit("}\n"))
    return pl.concat_str(pieces)


# Each row's line with its newline. Rows polars must not write are rare: pages without one skip
# the choice between the two lines (a pass over, and a copy of, every line).
_LINES = _line_expression()
_LINES_OR_PG = pl.when(pl.col(PG_LINE).is_null()).then(_LINES).otherwise(pl.col(PG_LINE) + "\n")


def ndjson(page: pl.DataFrame) -> bytes:
    """The page's rows as NDJSON, one line per row in the page's order, each ending in \\n."""
    lines = _LINES if page[PG_LINE].null_count() == page.height else _LINES_OR_PG
    # Joined into one value, the page's NDJSON in one piece of memory, taken as bytes. Writing
    # the lines as a one-column CSV instead measured ~0.3 s more CPU per 1M rows (its sink runs
    # on threads of its own) and ~0.5 s more wall time.
    joined: bytes = page.select(lines.str.join("").cast(pl.Binary)).item()
    return joined
