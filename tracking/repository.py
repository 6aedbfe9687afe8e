"""Queries of the tracking page: select() style; may flush, never commits.

The page is a read model over other packages' tables: ``page_rows`` reads (never writes) the
dossier, its procedure and events, and whether a payment and a shipment exist, in one query;
the details of a payment or a shipment still come from ``payments.service`` and
``courier.service``. Whether a shipment exists is courier's own expression
(``courier.service.shipment_id_column``, a correlated subquery inside the same query), so tracking
does not import ``courier.models``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Row, bindparam, or_, select
from sqlalchemy.orm import selectinload

from core.extensions import db
from courier import service as courier
from dossiers.models import Dossier, DossierEvent, Procedure
from payments.models import Payment
from tracking.models import Feedback, TrackingLink


def _open(digest, closed_after):
    """The link's condition: its hash, and a dossier still open or closed after ``closed_after``.

    An unknown hash and a link whose dossier closed before ``closed_after`` are the same
    single indexed query finding no row, so the two cannot be told apart, even by timing.
    """
    return (TrackingLink.token_hash == digest,
            or_(Dossier.closed_at.is_(None), Dossier.closed_at >= closed_after))


def open_dossier_by_token_hash(digest: str, closed_after: datetime) -> Dossier | None:
    """The dossier a link opens, as a model with its procedure (joined) and timeline (one more query)."""
    stmt = (select(Dossier)
            .join(TrackingLink, TrackingLink.dossier_id == Dossier.id)
            .where(*_open(digest, closed_after))
            .options(selectinload(Dossier.events))
            .limit(1))
    return db.session.scalars(stmt).first()


def _page_statement():
    stmt = (select(Dossier.id, Dossier.number, Dossier.status, Dossier.citizen_name, Dossier.citizen_phone,
                   Dossier.received_at, Dossier.deadline_at, Dossier.closed_at, Dossier.delivery_method,
                   Dossier.service_point_id, Procedure.code.label("procedure_code"),
                   Procedure.name.label("procedure_name"), Procedure.name_en.label("procedure_name_en"),
                   Feedback.rating.label("feedback_rating"), Payment.id.label("payment_id"),
                   courier.shipment_id_column(Dossier.id).label("shipment_id"),
                   DossierEvent.to_status.label("event_status"), DossierEvent.at.label("event_at"))
            .select_from(TrackingLink)
            .join(Dossier, Dossier.id == TrackingLink.dossier_id)
            .join(Procedure, Procedure.id == Dossier.procedure_id)
            .outerjoin(Feedback, Feedback.dossier_id == Dossier.id)
            .outerjoin(Payment, Payment.dossier_id == Dossier.id)
            .outerjoin(DossierEvent, DossierEvent.dossier_id == Dossier.id)
            .where(*_open(bindparam("digest"), bindparam("closed_after")))
            .order_by(DossierEvent.id))
    return stmt


_PAGE = _page_statement()  # built once: the page runs it as it is, parameters apart


def page_rows(digest: str, closed_after: datetime) -> list[Row]:
    """What the page needs of the dossier, its procedure, its timeline and its rating, in one round trip:
    one row per event (the dossier's columns repeated); no row for an unknown or expired link.

    It also says whether the dossier has a payment and a shipment (both unique per dossier), so
    the page asks payments and courier for their summaries only when there is something to tell.
    A plain Core query on the session's connection: no ORM objects to build.
    """
    return db.session.connection().execute(_PAGE, {"digest": digest, "closed_after": closed_after}).all()


def feedback_for(dossier_id: int) -> Feedback | None:
    return db.session.scalar(select(Feedback).where(Feedback.dossier_id == dossier_id))
