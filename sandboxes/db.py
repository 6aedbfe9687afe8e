"""The sandboxes' own declarative base: their tables are not the platform's.

A separate ``MetaData`` (with the platform's naming convention) keeps the sandbox tables out of
``db.metadata``: the platform's schema, its migrations and their autogenerate never see them. The
models are used through the platform's ``db.session`` all the same (Flask-SQLAlchemy binds a table
without a bind key to the default engine).
"""

from __future__ import annotations

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from core.extensions import NAMING_CONVENTION


class SandboxModel(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
