"""Test and demo data: spaces, and companies that look like a CRM's and try to break an exporter.

Companies are made inside PostgreSQL by one INSERT ... SELECT over generate_series, so a million
rows take seconds instead of a million round trips. `setseed` makes a run repeatable for a seed.
The strings vary in length and carry Unicode, quotes, backslashes, newlines, tabs, control
characters and U+2028 (a line break to some readers, not to NDJSON); some fields are NULL; and
created_at spreads over seven years, so it crosses DST changes of every timezone many times.
"""

import logging
from datetime import UTC, datetime, timedelta

import psycopg

log = logging.getLogger(__name__)

DEFAULT_FIRST_INSTANT = datetime(2019, 1, 1, tzinfo=UTC)
DEFAULT_SPREAD = timedelta(days=7 * 365)

_GENERATE = r"""
WITH words AS (
    SELECT
        ARRAY['Acme', 'Globex', 'Initech', 'Umbrella', 'Stark', 'Wayne', 'Müller', 'Société',
              'Zürich', 'Ørsted', 'Łódź', 'Ελληνική', 'Москва', '東京', '서울', 'مصر', 'שלום',
              'Café', 'Nordic', 'Pacific', 'Blue Ocean', 'Quantum', 'Bright', 'O''Brien',
              'Smith & Sons', 'Ñandú', 'Ångström', 'İstanbul', 'Đà Nẵng', '🚀 Rocket']
            AS stems,
        ARRAY['Inc.', 'LLC', 'GmbH', 'S.A.', 'Ltd', 'AG', 'K.K.', 'Group', 'Holdings', 'Labs',
              'Co.', 'BV', 'AB', 'Oy', 'SpA', 'Pty']
            AS suffixes,
        -- What naive CSV/JSON writers get wrong, and what COPY's text format escapes.
        ARRAY['"quoted"', 'back\slash', E'new\nline', E'tab\there', E'cr\rlf', 'C:\path\',
              '\u0041 not an escape', E'\u2028sep\u2029', E'bell\u0007', '</script>',
              E'\\"\n\\', '{"json": "inside"}', E'nul-ish \u0001\u001f', '😀👍🏽']
            AS hostile,
        ARRAY['Software', 'Manufacturing', 'Healthcare', 'Finance', 'Retail', 'Logistics',
              'Energy', 'Education', 'Media', 'Hospitality']
            AS industries,
        ARRAY['Berlin', 'New York', 'São Paulo', 'Kraków', 'Tōkyō', 'Reykjavík', 'Cairo',
              'Sydney', 'Toronto', 'Mumbai']
            AS cities,
        ARRAY['DE', 'US', 'BR', 'PL', 'JP', 'IS', 'EG', 'AU', 'CA', 'IN']
            AS countries,
        repeat('Quarterly renewal call went well; größe naïve café 数据 données. Pilot with '
               || 'the enterprise team, churn-risk low. Lorem ipsum dolor sit amet, consectetur '
               || 'adipiscing elit. ', 12)
            AS prose,
        ARRAY['customer', 'prospect', 'partner', 'vip', 'b2b', 'smb', 'enterprise', 'lead']
            AS tag_words
),
draws AS (
    -- One row of random numbers per company, so each column below reads as plain choices.
    SELECT g.i, random() AS r1, random() AS r2, random() AS r3, random() AS r4, random() AS r5,
           random() AS r6, random() AS r7, random() AS r8, random() AS created, random() AS edited
    FROM generate_series(1, %(count)s) AS g(i)
)
INSERT INTO companies (
    space_id, name, domain, industry, employee_count, annual_revenue, street, city, region,
    postal_code, country_code, phone, description, tags, custom_attributes, owner_email,
    created_at, updated_at
)
SELECT
    %(space_id)s,
    w.stems[1 + (d.r1 * 30)::int %% 30] || ' ' || w.suffixes[1 + (d.r2 * 16)::int %% 16]
        || CASE WHEN d.r3 < 0.03 THEN ' ' || w.hostile[1 + (d.r4 * 14)::int %% 14] ELSE '' END,
    CASE WHEN d.r5 < 0.1 THEN NULL
         ELSE lower(translate(w.stems[1 + (d.r1 * 30)::int %% 30], ' &''', '---'))
              || '-' || d.i || '.example' END,
    CASE WHEN d.r6 < 0.15 THEN NULL ELSE w.industries[1 + (d.r6 * 10)::int %% 10] END,
    CASE WHEN d.r7 < 0.1 THEN NULL ELSE (exp(d.r7 * 11))::int END,
    CASE WHEN d.r8 < 0.2 THEN NULL ELSE round((exp(d.r8 * 23))::numeric, 2) END,
    CASE WHEN d.r2 < 0.2 THEN NULL ELSE (1 + (d.r3 * 998)::int) || ' Main Street' END,
    w.cities[1 + (d.r4 * 10)::int %% 10],
    CASE WHEN d.r5 < 0.5 THEN NULL ELSE 'Region ' || (d.r5 * 50)::int END,
    CASE WHEN d.r6 < 0.1 THEN NULL ELSE lpad(((d.r6 * 99999)::int)::text, 5, '0') END,
    w.countries[1 + (d.r4 * 10)::int %% 10],
    CASE WHEN d.r7 < 0.3 THEN NULL
         ELSE '+1 555 ' || lpad(((d.r7 * 9999999)::int)::text, 7, '0') END,
    CASE WHEN d.r8 < 0.25 THEN NULL
         -- 0 to 500 characters, so lines vary from a few hundred bytes to over a kilobyte.
         ELSE substr(w.prose, 1 + (d.r1 * 100)::int, (d.r8 * d.r8 * 500)::int)
              || CASE WHEN d.r3 > 0.97 THEN w.hostile[1 + (d.r1 * 14)::int %% 14] ELSE '' END
    END,
    w.tag_words[1:(d.r3 * 4)::int],
    CASE WHEN d.r1 < 0.4 THEN '{}'::jsonb
         ELSE jsonb_build_object(
             'score', (d.r2 * 100)::int,
             'plan', CASE WHEN d.r4 < 0.5 THEN 'pro' ELSE 'free' END,
             'note', CASE WHEN d.r5 > 0.95 THEN w.hostile[1 + (d.r5 * 14)::int %% 14] END,
             'renewal', jsonb_build_object('month', 1 + (d.r6 * 11)::int, 'auto', d.r7 > 0.5))
    END,
    CASE WHEN d.r2 < 0.3 THEN NULL ELSE 'owner' || (d.r2 * 40)::int || '@crm.example' END,
    %(first_instant)s + d.created * %(spread)s,
    %(first_instant)s + d.created * %(spread)s + d.edited * interval '400 days'
FROM draws d CROSS JOIN words w
"""


def create_space(conn: psycopg.Connection, name: str, timezone: str, *, active: bool = True) -> int:
    """Inserts a space and returns its id; the caller's transaction decides when it is committed."""
    row = conn.execute(
        "INSERT INTO spaces (name, timezone, subscription_status) VALUES (%s, %s, %s) RETURNING id",
        (name, timezone, "active" if active else "inactive"),
    ).fetchone()
    assert row is not None  # INSERT ... RETURNING always returns the row
    return int(row[0])


def generate_companies(
    conn: psycopg.Connection,
    space_id: int,
    count: int,
    *,
    seed: int | None = None,
    first_instant: datetime = DEFAULT_FIRST_INSTANT,
    spread: timedelta = DEFAULT_SPREAD,
) -> int:
    """Adds `count` companies to a space, created between first_instant and first_instant + spread.

    The same seed gives the same rows (ids aside) on the same PostgreSQL version. Returns how many
    rows were inserted; the caller's transaction decides when they are committed.
    """
    if seed is not None:
        # setseed takes a double in [-1, 1]; any integer maps to one of 2**31 distinct seeds.
        conn.execute("SELECT setseed(%s)", ((seed % 2**31) / 2**31,))
    cursor = conn.execute(
        _GENERATE,
        {"space_id": space_id, "count": count, "first_instant": first_instant, "spread": spread},
    )
    log.info("generated companies", extra={"space_id": space_id, "count": cursor.rowcount})
    return cursor.rowcount
