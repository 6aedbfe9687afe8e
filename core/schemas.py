"""Shared marshmallow fields."""

from __future__ import annotations

from marshmallow import fields

from core.timeutil import as_utc


class UtcDateTime(fields.DateTime):
    """ISO 8601 in UTC, whatever the database handed back (SQLite drops the zone)."""

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else super()._serialize(as_utc(value), attr, obj, **kwargs)
