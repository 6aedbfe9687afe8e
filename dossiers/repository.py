"""Dossier and procedure queries (select() style). May flush, never commits."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Select, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from core.extensions import db
from dossiers.models import Dossier, DossierCounter, Procedure, Status


def procedure_by_code(code: str) -> Procedure | None:
    return db.session.scalar(select(Procedure).where(Procedure.code == code))


def active_procedures_detached() -> list[Procedure]:
    """Active procedures loaded in a session of their own and detached, for a process-wide cache."""
    with Session(db.engine) as session:
        procedures = list(session.scalars(select(Procedure).where(Procedure.is_active).order_by(Procedure.code)))
        session.expunge_all()
    return procedures


def next_sequence(session: Session, unit_code: str, day: date) -> int:
    """Atomically take the next running number for a unit and day.

    One INSERT … ON CONFLICT DO UPDATE … RETURNING: on PostgreSQL the row lock it
    takes serialises concurrent workers, so no two transactions get the same value.
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(DossierCounter).values(unit_code=unit_code, day=day, last_value=1)
    stmt = stmt.on_conflict_do_update(
        index_elements=[DossierCounter.unit_code, DossierCounter.day],
        set_={"last_value": DossierCounter.last_value + 1},
    ).returning(DossierCounter.last_value)
    return session.execute(stmt).scalar_one()


def dossier_by_idempotency_key(owner: str, key: str) -> Dossier | None:
    return db.session.scalar(
        select(Dossier).where(Dossier.idempotency_owner == owner, Dossier.idempotency_key == key)
    )


def dossier_by_id(dossier_id: int) -> Dossier | None:
    return db.session.get(Dossier, dossier_id)


def scoped_dossiers(
    organisation_id: int | None = None, service_point_id: int | None = None
) -> Select:
    stmt = select(Dossier)
    if organisation_id is not None:
        stmt = stmt.where(Dossier.organisation_id == organisation_id)
    if service_point_id is not None:
        stmt = stmt.where(Dossier.service_point_id == service_point_id)
    return stmt


def dossier_by_number(stmt: Select, number: str, for_update: bool = False) -> Dossier | None:
    stmt = stmt.where(Dossier.number == number)
    if for_update:
        stmt = stmt.with_for_update(of=Dossier)
    return db.session.scalar(stmt)


def page_of_dossiers(
    stmt: Select, status: Status | None, page: int, page_size: int
) -> tuple[list[Dossier], int]:
    if status is not None:
        stmt = stmt.where(Dossier.status == status)
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = db.session.scalars(
        stmt.order_by(Dossier.received_at.desc(), Dossier.id.desc())
        .limit(page_size).offset((page - 1) * page_size)
    )
    return list(rows), total or 0
