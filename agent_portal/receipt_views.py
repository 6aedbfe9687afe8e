"""The receipt handed to the citizen: A5 or an 80 mm thermal printer, with the tracking QR code."""

from __future__ import annotations

import segno
from flask import Blueprint, render_template, request
from markupsafe import Markup

from core.auth import allow, current_principal
from core.roles import Role
from dossiers import service as dossiers
from payments import service as payments
from tracking import service as tracking

bp = Blueprint("receipts", __name__, url_prefix="/portal", template_folder="templates")


@bp.route("/dossiers/<number>/receipt")
@allow(Role.AGENT, Role.BRANCH_OFFICER, Role.ADMIN)
def receipt(number: str):
    dossier = dossiers.get(current_principal(), number)
    # Only the hash of a link's token is stored: each print carries a link of its own.
    tracking_url = tracking.share_link(dossier.id, "receipt")
    qr = segno.make(tracking_url, error="m")
    svg = qr.svg_inline(scale=4 if request.args.get("format") != "thermal" else 3, border=2, omitsize=True)
    paper = "thermal" if request.args.get("format") == "thermal" else "a5"
    return render_template("agent_portal/receipt.html", d=dossier, point=dossiers.receiving_point(dossier),
                           tracking_url=tracking_url, qr_svg=Markup(svg), paper=paper,  # noqa: S704
                           money=payments.intake_summary(dossier))
