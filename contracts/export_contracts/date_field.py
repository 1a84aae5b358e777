"""Which timestamp of a company a range applies to: when it was created (the default) or last
updated (incremental exports). Each value is the name of its column in `companies`, and the
range's rows come in (that column, id) order, along an index on (space_id, that column, id)."""

from enum import StrEnum


class DateField(StrEnum):
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"
