-- The final record of every finished export, so that the cluster can forget its object.
--
-- The API writes a row when it sees an export reach Completed or Failed, then labels the object
-- archived; the operator deletes only labelled objects (after retention plus a grace), so a row
-- exists before its object goes. Rows are never updated by archiving (ON CONFLICT DO NOTHING):
-- a row is written exactly once, whichever replica or retry gets there first.
CREATE TABLE export_archive (
    export_id    bigint PRIMARY KEY,
    space_id     bigint NOT NULL REFERENCES spaces ON DELETE CASCADE,
    state        text NOT NULL CHECK (state IN ('Queued', 'Processing', 'Completed', 'Failed', 'Expired')),
    reason       text,
    message      text,
    created_at   timestamptz NOT NULL,
    started_at   timestamptz,
    completed_at timestamptz,
    -- When the file is deleted; a completed export reads as expired from then on.
    expires_at   timestamptz,
    bucket       text,
    object_key   text,
    records      bigint CHECK (records >= 0),
    bytes        bigint CHECK (bytes >= 0),
    sha256       text,
    archived_at  timestamptz NOT NULL DEFAULT now(),
    -- Set by the API's DELETE (which writes the row itself if the export was not finished): the
-- export answers 404 from then on, whoever archives it later.
    deleted_at   timestamptz
);

-- List Exports: one space, newest (highest id) first, a page at a time.
CREATE INDEX export_archive_space ON export_archive (space_id, export_id DESC);
-- The history window's purge.
CREATE INDEX export_archive_archived ON export_archive (archived_at);
