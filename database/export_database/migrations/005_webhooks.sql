-- Webhook endpoints of a space, and the outbox of their deliveries.
--
-- The API writes a delivery row for every endpoint that subscribes to an event in the same
-- transaction that archives the finished export (export_archive), so an event is queued exactly
-- once, whichever replica archives it. The dispatcher sends due rows and records each attempt on
-- the row; the row's id is the `webhook-id` header, the same on every retry.
CREATE TABLE webhook_endpoints (
    id                          bigserial PRIMARY KEY,
    space_id                    bigint NOT NULL REFERENCES spaces ON DELETE CASCADE,
    url                         text NOT NULL CHECK (url LIKE 'https://%'),
    events                      text[] NOT NULL CHECK (cardinality(events) > 0),
    -- Standard Webhooks secrets (whsec_<base64>): signing needs them, so they are not hashed;
    -- the API shows one only in the answer that created it.
    secret                      text NOT NULL,
    -- After a rotation the old secret also signs until it expires, so receivers can switch.
    previous_secret             text,
    previous_secret_expires_at  timestamptz,
    created_at                  timestamptz NOT NULL DEFAULT now(),
    -- Set when a delivery failed for the whole retry window; the endpoint gets nothing until
    -- it is enabled again.
    disabled_at                 timestamptz,
    disabled_reason             text
);

CREATE INDEX webhook_endpoints_space ON webhook_endpoints (space_id, id);

CREATE TABLE webhook_deliveries (
    id               text PRIMARY KEY,
    endpoint_id      bigint NOT NULL REFERENCES webhook_endpoints ON DELETE CASCADE,
    space_id         bigint NOT NULL REFERENCES spaces ON DELETE CASCADE,
    event            text NOT NULL,
    export_id        bigint NOT NULL,
    -- The exact body sent, every attempt the same bytes.
    payload          text NOT NULL,
    state            text NOT NULL DEFAULT 'pending'
                     CHECK (state IN ('pending', 'delivered', 'failed', 'cancelled')),
    attempts         integer NOT NULL DEFAULT 0,
    last_status_code integer,
    last_error       text,
    -- When the event was first due (an expiry is queued ahead of its time); the retry window
    -- counts from here.
    due_at           timestamptz NOT NULL,
    -- Next due time; a dispatcher that claims a row moves it past its send's deadline (a lease),
    -- so a dispatcher killed mid-send leaves the row due again, with the same id.
    next_attempt_at  timestamptz NOT NULL,
    -- clock_timestamp(): rows queued by one transaction keep their order in the log.
    created_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    last_attempt_at  timestamptz,
    delivered_at     timestamptz,
    UNIQUE (endpoint_id, event, export_id)
);

-- The dispatcher's claim: due pending rows, per endpoint.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (endpoint_id, next_attempt_at)
    WHERE state = 'pending';
-- An endpoint's delivery log, newest first.
CREATE INDEX webhook_deliveries_log ON webhook_deliveries (endpoint_id, created_at DESC, id);
-- Cancelling an export's queued events when it is deleted.
CREATE INDEX webhook_deliveries_export ON webhook_deliveries (export_id) WHERE state = 'pending';
