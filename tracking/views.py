"""The citizen's tracking page: /t/<token>, public, personal data masked."""

from __future__ import annotations

from flask import Blueprint, abort, render_template

from core.auth import public
from dossiers import service as dossiers
from payments import service as payments
from tracking import service as links

bp = Blueprint("tracking", __name__, template_folder="templates")


@bp.route("/t/<token>")
@public
def page(token: str):
    dossier = links.dossier_for_token(token)
    if dossier is None:
        abort(404)
    return render_template("tracking/page.html", d=dossier, point=dossiers.receiving_point(dossier),
                           payment=payments.public_summary(dossier.id))
