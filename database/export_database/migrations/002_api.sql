-- State the API shares between its replicas: rate limits and idempotency keys.

-- One row per space and limit (GCRA): `tat` is the "theoretical arrival time"; a request is allowed
-- while tat + interval - now() <= period. One atomic upsert per request, on the database's clock,
-- so every replica sees the same budget.
CREATE TABLE api_rate_limits (
    space_id bigint NOT NULL REFERENCES spaces ON DELETE CASCADE,
    bucket   text NOT NULL,
    tat      timestamptz NOT NULL,
    allowed  boolean NOT NULL,
    PRIMARY KEY (space_id, bucket)
);

-- A create sent with an Idempotency-Key: the same key and body within 24 h return this export.
CREATE TABLE api_idempotency_keys (
    space_id     bigint NOT NULL REFERENCES spaces ON DELETE CASCADE,
    key          text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    -- sha256 of the canonical request body, to refuse the same key with another body.
    request_hash bytea NOT NULL CHECK (octet_length(request_hash) = 32),
    export_id    bigint NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (space_id, key)
);

CREATE INDEX api_idempotency_keys_created ON api_idempotency_keys (created_at);
