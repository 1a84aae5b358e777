-- Incremental exports and List Companies by updated_at: one space, an updated_at range, in
-- (updated_at, id) order, read along this index as created_at ranges are along
-- companies_space_created.
--
-- This product never writes companies: the application that does must set updated_at on every
-- change of a row (no trigger here overrides what it writes), or incremental exports miss the
-- change.
CREATE INDEX companies_space_updated ON companies (space_id, updated_at, id);
