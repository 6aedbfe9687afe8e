"""Dossier and procedure queries (select() style). May flush, never commits."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, Integer, Select, String, bindparam, func, insert, select, text
from sqlalchemy.orm import Session

from core import outbox, pii
from core.extensions import db
from dossiers import codes
from dossiers.events import STATUS_CHANGED
from dossiers.models import Dossier, DossierEvent, Procedure, Status


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

    One INSERT … ON CONFLICT DO UPDATE … RETURNING (PostgreSQL, and SQLite ≥ 3.35):
    on PostgreSQL the row lock it takes serialises concurrent workers, so no two
    transactions get the same value, and a rolled-back one gives its number back.
    Written as text because SQLAlchemy cannot cache the compiled ON CONFLICT construct.
    """
    return session.execute(_NEXT_SEQUENCE, {"unit_code": unit_code, "day": day}).scalar_one()


_NEXT_SEQUENCE = text(
    "INSERT INTO dossier_counters (unit_code, day, last_value) VALUES (:unit_code, :day, 1) "
    "ON CONFLICT (unit_code, day) DO UPDATE SET last_value = dossier_counters.last_value + 1 "
    "RETURNING last_value"
).bindparams(bindparam("day", type_=Date()))


def loads_on(day: date) -> dict[str, int]:
    """Dossiers received per service point code on ``day``: the counters' last values.

    Counters are kept per receiving agency (its code), or per point for numbers in the former format;
    every point has its own agency code (dossiers.codes), so a counter is one point's load."""
    loads: dict[str, int] = {}
    for key, value in db.session.execute(_LOADS, {"day": day}).tuples():
        point = codes.point_code_of(key)
        loads[point] = loads.get(point, 0) + value
    return loads


_LOADS = text("SELECT unit_code, last_value FROM dossier_counters WHERE day = :day").bindparams(
    bindparam("day", type_=Date()))


def routing_outcomes_since(since: datetime) -> list[tuple[str, int, int]]:
    """(service point code, dossiers routed there, of which outside the service radius) since ``since``."""
    return [tuple(row) for row in db.session.execute(_OUTCOMES, {"since": since}).all()]


_OUTCOMES = text(
    "SELECT sp.code, COUNT(*), SUM(CASE WHEN d.outside_service_radius THEN 1 ELSE 0 END) "
    "FROM dossiers d JOIN service_points sp ON sp.id = d.service_point_id "
    "WHERE d.received_at >= :since GROUP BY sp.code"
).bindparams(bindparam("since", type_=DateTime(timezone=True)))


def dossier_for_update(dossier_id: int) -> Dossier | None:
    return db.session.scalar(select(Dossier).where(Dossier.id == dossier_id).with_for_update(of=Dossier))


def dossier_by_idempotency_key(owner: str, key: str) -> Dossier | None:
    return db.session.scalar(
        select(Dossier).where(Dossier.idempotency_owner == owner, Dossier.idempotency_key == key)
    )


def scoped_dossiers(
    organisation_id: int | None = None, service_point_id: int | None = None,
    service_point_ids: list[int] | None = None,
) -> Select:
    stmt = select(Dossier)
    if organisation_id is not None:
        stmt = stmt.where(Dossier.organisation_id == organisation_id)
    if service_point_id is not None:
        stmt = stmt.where(Dossier.service_point_id == service_point_id)
    if service_point_ids is not None:
        stmt = stmt.where(Dossier.service_point_id.in_(service_point_ids))
    return stmt


def dossier_by_number(stmt: Select, number: str, for_update: bool = False) -> Dossier | None:
    stmt = stmt.where(Dossier.number == number)
    if for_update:
        stmt = stmt.with_for_update(of=Dossier)
    return db.session.scalar(stmt)


def search_dossiers(stmt: Select, *, number: str | None = None, phone: str | None = None,
                    cccd: str | None = None, status: Status | None = None,
                    received_from: datetime | None = None, received_to: datetime | None = None,
                    limit: int = 100) -> list[Dossier]:
    if number:
        stmt = stmt.where(Dossier.number.startswith(number))
    if phone:
        stmt = stmt.where(Dossier.citizen_phone_hash == pii.blind_index("phone", phone))
    if cccd:
        stmt = stmt.where(Dossier.citizen_id_number_hash == pii.blind_index("cccd", cccd))
    if status is not None:
        stmt = stmt.where(Dossier.status == status)
    if received_from is not None:
        stmt = stmt.where(Dossier.received_at >= received_from)
    if received_to is not None:
        stmt = stmt.where(Dossier.received_at < received_to)
    return list(db.session.scalars(stmt.order_by(Dossier.received_at.desc(), Dossier.id.desc()).limit(limit)))


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


# --- Registration: the dossier, its number and its first events, written at once -------------

def _registration_columns() -> list:
    return [c for c in Dossier.__table__.columns if c.name not in _NOT_AT_REGISTRATION]


# Given by the database or empty when a dossier is registered (the workspace fills them later).
_NOT_AT_REGISTRATION = frozenset({"id", "number", "closed_at", "assigned_user_id", "paused_at", "version"})


def _event_columns() -> list:
    return [c for c in DossierEvent.__table__.columns if c.name not in ("id", "dossier_id")]


def _registration_statement(event_count: int, topics: tuple[str, ...], payload_keys: tuple[str, ...]):
    """PostgreSQL: one statement takes the number, inserts the dossier, its events and the
    ``dossiers.status_changed`` outbox rows of its subscribers (``topics``).

    Data-modifying CTEs run as one atomic statement: one round trip instead of five,
    and a duplicate Idempotency-Key fails the whole of it, counter increment included.
    Generated from the table metadata and the registered subscribers, so it follows both.
    """
    columns = _registration_columns()
    events = _event_columns()
    # Identifiers come from the table metadata; every value is a bound parameter.
    digits = "seq.last_value::text"
    number = f"CAST(:number_prefix AS VARCHAR) || lpad({digits}, greatest(4, length({digits})), '0')"
    event_selects = " UNION ALL ".join(
        "SELECT d.id, " + ", ".join(f":e{i}_{c.name}" for c in events) + " FROM d"  # noqa: S608
        for i in range(event_count)
    )
    counter = (
        "INSERT INTO dossier_counters (unit_code, day, last_value) VALUES (:unit_code, :day, 1) "
        "ON CONFLICT (unit_code, day) DO UPDATE SET last_value = dossier_counters.last_value + 1 "
        "RETURNING last_value"
    )
    names, binds = ", ".join(c.name for c in columns), ", ".join(":" + c.name for c in columns)
    event_names = ", ".join(c.name for c in events)
    sql = (
        f"WITH seq AS ({counter}), "  # noqa: S608
        f"d AS (INSERT INTO dossiers (number, {names}) SELECT {number}, {binds} FROM seq RETURNING id, number), "
        f"ev AS (INSERT INTO dossier_events (dossier_id, {event_names}) {event_selects}) "
    )
    if topics:
        # One outbox row per subscriber of dossiers.status_changed (outbox.publish's rows, written here).
        fields = ", ".join(f"'{key}', CAST(:p_{key} AS VARCHAR)" for key in payload_keys if key != "dossier_id")
        values = ", ".join(f"(CAST(:t{i} AS VARCHAR))" for i in range(len(topics)))
        # Keys are this package's own payload names; every value is bound.
        sql += (
            ", ob AS (INSERT INTO outbox (topic, payload, status, due_at, attempts, created_at) "  # noqa: S608
            f"SELECT t.topic, json_build_object('dossier_id', d.id, {fields}), 'pending', "
            f":received_at, 0, :received_at FROM d, (VALUES {values}) AS t(topic)) "
        )
    sql += "SELECT id, number FROM d"
    params = [bindparam("day", type_=Date()), bindparam("number_prefix", type_=String())]
    params += [bindparam(c.name, type_=c.type) for c in columns]
    params += [bindparam(f"e{i}_{c.name}", type_=c.type) for i in range(event_count) for c in events]
    return text(sql).bindparams(*params).columns(id=Integer(), number=String())


_REGISTRATION_PG: dict = {}  # (events, subscription version, topics, payload keys) -> statement


def insert_registration(session: Session, unit_code: str, day: date, number_prefix: str,
                        values: dict, events: list[dict], announcement: dict) -> tuple[int, str]:
    """Take the unit's next number for ``day`` and insert the dossier (``values``: every column
    but id, number and closed_at) with its ``events``, and publishes ``announcement`` (the
    ``dossiers.status_changed`` payload, its dossier_id filled in here); returns (id, number). Never commits."""
    if session.get_bind().dialect.name == "postgresql":
        wanted = outbox.subscribers(STATUS_CHANGED, announcement)
        # Rows keyed by the subscriber need the dossier's id first: those are enqueued after the statement.
        inline = tuple(sub.topic for sub in wanted if sub.dedupe is None)
        keys = tuple(announcement)
        cache_key = (len(events), outbox.subscriptions_version(), inline, keys)
        stmt = _REGISTRATION_PG.get(cache_key)
        if stmt is None:
            stmt = _REGISTRATION_PG[cache_key] = _registration_statement(len(events), inline, keys)
        params = {"unit_code": unit_code, "day": day, "number_prefix": number_prefix, **values}
        for i, event in enumerate(events):
            params.update({f"e{i}_{name}": value for name, value in event.items()})
        params.update({f"t{i}": topic for i, topic in enumerate(inline)})
        params.update({f"p_{key}": value for key, value in announcement.items() if key != "dossier_id"})
        row = session.execute(stmt, params).one()
        if inline:
            session.info["outbox_wake"] = True  # the runner is woken once this transaction commits
        payload = {**announcement, "dossier_id": row.id}
        for sub in wanted:
            if sub.dedupe is not None:
                outbox.enqueue(sub.topic, dict(payload), dedupe_key=sub.dedupe_key(payload, None))
        return row.id, row.number
    sequence = next_sequence(session, unit_code, day)
    number = codes.format_number(number_prefix, sequence)
    dossier_id = session.execute(
        insert(Dossier).values(number=number, **values).returning(Dossier.id)
    ).scalar_one()
    session.execute(insert(DossierEvent), [{"dossier_id": dossier_id, **event} for event in events])
    outbox.publish(STATUS_CHANGED, {**announcement, "dossier_id": dossier_id})
    return dossier_id, number
