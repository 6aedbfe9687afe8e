"""Tracking links: issued once per channel use, found by the hash of their token, expiring.

A link stops working ``TRACKING_LINK_TTL_DAYS`` after its dossier closes (delivered and
closed, collected and closed, cancelled); until then it opens the dossier's page.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app, has_request_context, request
from sqlalchemy import select

from core.extensions import db
from core.timeutil import as_utc, utcnow
from dossiers import service as dossiers
from dossiers.models import Dossier
from tracking.models import TrackingLink


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _base_url() -> str:
    if has_request_context():
        return request.host_url.rstrip("/")
    return str(current_app.config["PUBLIC_BASE_URL"]).rstrip("/")


def issue_link(dossier_id: int, channel: str) -> str:
    """A new link to the dossier's page, in the caller's transaction; the token exists only in the URL."""
    token = secrets.token_urlsafe(16)  # 128 random bits
    db.session.add(TrackingLink(dossier_id=dossier_id, token_hash=token_hash(token), channel=channel))
    db.session.flush()
    return f"{_base_url()}/t/{token}"


def share_link(dossier_id: int, channel: str) -> str:
    """A new link, committed (a page that prints or shows it)."""
    url = issue_link(dossier_id, channel)
    db.session.commit()
    return url


def dossier_for_token(token: str) -> Dossier | None:
    """The dossier a token opens, or None: unknown, malformed, or expired after the dossier closed."""
    if not 16 <= len(token) <= 64:
        return None
    dossier_id = db.session.scalar(select(TrackingLink.dossier_id).where(TrackingLink.token_hash == token_hash(token)))
    if dossier_id is None:
        return None
    dossier = dossiers.by_id(dossier_id)
    if dossier is None or expired(dossier):
        return None
    return dossier


def expired(dossier: Dossier) -> bool:
    if dossier.closed_at is None:
        return False
    ttl = timedelta(days=float(current_app.config["TRACKING_LINK_TTL_DAYS"]))
    return as_utc(dossier.closed_at) + ttl < utcnow()
