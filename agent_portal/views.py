"""The agents' tablet portal (HTML)."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, render_template, request

from core.auth import allow, current_principal
from core.models import Role
from core.timeutil import to_local, utcnow
from dossiers import service as dossiers
from dossiers.models import Status

bp = Blueprint("agent_portal", __name__, url_prefix="/portal", template_folder="templates")


@bp.route("")
@allow(Role.AGENT)
def home():
    """Today's dossiers of this agent's organisation, with search and filters."""
    query = request.args.get("q", "")
    status = request.args.get("status") or None
    day_text = request.args.get("day")
    try:
        day = date.fromisoformat(day_text) if day_text else to_local(utcnow()).date()
    except ValueError:
        day = to_local(utcnow()).date()
    status_value = Status(status) if status in {s.value for s in Status} else None
    found = dossiers.search(current_principal(), query, status_value, None if query else day)
    return render_template("agent_portal/home.html", dossiers=found, query=query, status=status_value,
                           day=day, statuses=list(Status))
