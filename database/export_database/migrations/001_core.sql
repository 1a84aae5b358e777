-- Spaces, their API keys and their companies: what the API authenticates and the exporter reads.

CREATE TABLE spaces (
    id                  bigserial PRIMARY KEY,
    name                text NOT NULL,
    -- IANA name ("Europe/Berlin"): the API reads clients' naive local times in this zone.
    timezone            text NOT NULL,
    subscription_status text NOT NULL DEFAULT 'active'
                        CHECK (subscription_status IN ('active', 'inactive')),
    created_at          timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
    id           bigserial PRIMARY KEY,
    space_id     bigint NOT NULL REFERENCES spaces ON DELETE CASCADE,
    -- The public part of a key, used to find its row; the secret part is stored only as a hash.
    prefix       text NOT NULL UNIQUE,
    key_hash     bytea NOT NULL CHECK (octet_length(key_hash) = 32),
    name         text,
    scopes       text[] NOT NULL,
    revoked_at   timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz
);

CREATE INDEX api_keys_space_id ON api_keys (space_id);

CREATE TABLE companies (
    id                bigserial PRIMARY KEY,
    space_id          bigint NOT NULL REFERENCES spaces,
    name              text NOT NULL,
    domain            text,
    industry          text,
    employee_count    integer CHECK (employee_count >= 0),
    annual_revenue    numeric(15, 2) CHECK (annual_revenue >= 0),
    street            text,
    city              text,
    region            text,
    postal_code       text,
    country_code      text CHECK (country_code ~ '^[A-Z]{2}$'),
    phone             text,
    description       text,
    tags              text[] NOT NULL DEFAULT '{}',
    -- jsonb, not json: its text form never holds a raw newline, so one company stays one line.
    custom_attributes jsonb NOT NULL DEFAULT '{}',
    owner_email       text,
    -- Finite, so every timestamp has an RFC 3339 form.
    created_at        timestamptz NOT NULL CHECK (isfinite(created_at)),
    updated_at        timestamptz NOT NULL CHECK (isfinite(updated_at))
);

-- Serves exports and List Companies: one space, a created_at range, in (created_at, id) order.
CREATE INDEX companies_space_created ON companies (space_id, created_at, id);

-- The JSON object of one company, as exports and List Companies send it (see company_json.py):
-- every column, timestamps as RFC 3339 strings in UTC with Z. Casting a ROW to this type names
-- the fields, and is faster in row_to_json than a whole-row reference or json_build_object.
CREATE TYPE company_json_line AS (
    id                bigint,
    space_id          bigint,
    name              text,
    domain            text,
    industry          text,
    employee_count    integer,
    annual_revenue    numeric,
    street            text,
    city              text,
    region            text,
    postal_code       text,
    country_code      text,
    phone             text,
    description       text,
    tags              text[],
    custom_attributes jsonb,
    owner_email       text,
    created_at        json,
    updated_at        json
);

-- Export ids the API hands out (integers, as the public API has them).
CREATE SEQUENCE export_ids AS bigint;
