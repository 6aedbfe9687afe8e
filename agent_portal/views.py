"""The agents' tablet portal (HTML)."""

from __future__ import annotations

import gzip
from datetime import date
from functools import lru_cache
from pathlib import Path

from flask import Blueprint, Response, current_app, render_template, request, send_from_directory, url_for
from flask_babel import get_locale
from flask_login import current_user
from markupsafe import Markup

from core.auth import allow, current_principal, public
from core.errors import NotFound
from core.roles import Role
from core.timeutil import to_local, utcnow
from core.views import STATIC_DIR as CORE_STATIC_DIR
from core.web import LANGUAGES
from dossiers import service as dossiers
from dossiers.models import Status
from dossiers.validators import CCCD_PROVINCE_CODES
from payments import service as payments
from payments.schemas import PaymentSchema, QuoteSchema

bp = Blueprint("agent_portal", __name__, url_prefix="/portal", template_folder="templates")
# An explicit, @public route rather than the blueprint's static_folder: Flask's own
# static endpoint would carry no access rule, and unruled routes are refused.
STATIC_DIR = Path(__file__).with_name("static")
HANOI_OUTLINE = Path(__file__).resolve().parent.parent / "geo" / "data" / "hanoi_boundary.geojson"
MAX_IMAGE_PX = 1600  # photos are shrunk on the tablet to this many pixels on the long side
JPEG_QUALITY = 0.85
RECEIPT_DELAY_MS = 2500  # the number stays on screen this long before the payment page opens


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


def _inline_text(*paths: Path) -> str:
    """Files joined for inlining, re-read only when one of them changes."""
    return _joined(paths, tuple(path.stat().st_mtime_ns for path in paths))


@lru_cache(maxsize=8)
def _joined(paths: tuple[Path, ...], _mtimes: tuple[int, ...]) -> str:
    text = "\n".join(path.read_text(encoding="utf-8") for path in paths)
    if "</script" in text.lower() or "</style" in text.lower():
        raise ValueError(f"{paths} would close its inline element early")
    return text


@bp.route("/new")
@allow(Role.AGENT)
def new_dossier():
    """The step-by-step new-dossier flow for a tablet.

    Its script and styles are inlined: on a high-latency link (3G, ~0.5 s a round trip)
    the page is then usable after one round trip instead of two. Leaflet is fetched
    only when the agent opens the map.
    """
    cfg = current_app.config
    config = {
        "lang": str(get_locale()),
        "user": current_user.email.lower(),
        "tileUrl": cfg.get("MAP_TILE_URL", ""),
        "tileAttribution": cfg.get("MAP_TILE_ATTRIBUTION", ""),
        "maxImagePx": MAX_IMAGE_PX,
        "jpegQuality": JPEG_QUALITY,
        "maxBytes": cfg["MAX_DOCUMENT_BYTES"],
        "cccdProvinces": sorted(CCCD_PROVINCE_CODES),
        "receiptDelayMs": RECEIPT_DELAY_MS,
        "urls": {
            "procedures": url_for("procedures.list_procedures"),
            "routing": url_for("geo.routing"),
            "geocode": url_for("geocode.geocode"),
            "servicePoints": url_for("geo.list_service_points"),
            "dossiers": url_for("dossiers.create_dossier"),
            "outline": url_for("agent_portal.hanoi_outline"),
            "leafletJs": url_for("coverage_page.leaflet_asset", filename="leaflet.js"),
            "leafletCss": url_for("coverage_page.leaflet_asset", filename="leaflet.css"),
            "home": url_for("agent_portal.home"),
            # {number} is replaced in the page; the receipt page belongs to agent_portal.receipt_views.
            "documents": url_for("dossiers.create_dossier") + "/{number}/documents",
            "dossier": url_for("dossiers.create_dossier") + "/{number}",
            "receipt": url_for("agent_portal.home") + "/dossiers/{number}/receipt",
            "pay": url_for("agent_portal.home") + "/dossiers/{number}/pay",
        },
    }
    page = render_template(
        "agent_portal/new.html", config=config,
        inline_css=Markup(_inline_text(CORE_STATIC_DIR / "app.css", STATIC_DIR / "new_dossier.css")),  # noqa: S704
        inline_js=Markup(_inline_text(STATIC_DIR / "new_dossier.js")),  # noqa: S704 - our own file
    )
    return _compressed(Response(page, mimetype="text/html"))


@bp.route("/dossiers/<number>/pay")
@allow(Role.AGENT)
def pay(number: str):
    """Taking the fees on the tablet: the quote, then card, VietQR or cash, and the e-receipt.

    Inlined like the new-dossier page. The state at load comes from the server (so a return
    from 3-D Secure shows where the payment stands); the page then talks to the payments API.
    """
    principal = current_principal()
    dossier = dossiers.get(principal, number)
    quote = payments.quote(principal, number)
    try:
        _dossier, payment = payments.get(principal, number)
        state = PaymentSchema().dump(payments.view(dossier, payment))
    except NotFound:
        state = None
    api = url_for("dossiers.create_dossier") + "/" + dossier.number
    config = {
        "lang": str(get_locale()),
        "number": dossier.number,
        "sandbox": not current_app.config.get("PAYMENT_GATEWAY_URL"),
        "quote": QuoteSchema().dump(quote),
        "payment": state,
        "urls": {
            "quote": api + "/quote",
            "payment": api + "/payment",
            "card": api + "/payment/card",
            "cash": api + "/payment/cash",
            "provisional": api + "/payment/vietqr/provisional",
            "receipt": url_for("receipts.receipt", number=dossier.number),
        },
    }
    procedure = dossier.procedure
    page = render_template(
        "agent_portal/pay.html", config=config, d=dossier, quote=quote, sandbox=config["sandbox"],
        procedure_name=procedure.name_en if str(get_locale()) == "en" and procedure.name_en else procedure.name,
        receipt_url=config["urls"]["receipt"],
        inline_css=Markup(_inline_text(CORE_STATIC_DIR / "app.css", STATIC_DIR / "pay.css")),  # noqa: S704
        inline_js=Markup(_inline_text(STATIC_DIR / "pay.js")),  # noqa: S704 - our own file
    )
    response = _compressed(Response(page, mimetype="text/html"))
    response.headers["Cache-Control"] = "private, no-store"  # the payment's state, never a stale copy
    return response


def _compressed(response: Response) -> Response:
    """Gzip a page (86 KB → 22 KB) when nothing in the request can be echoed into it.

    The page carries the CSRF token; compressing it next to text an attacker chose (a query
    string echoed by the language link) would open it to BREACH. So only a bare request, or
    one with a valid ?lang=, is compressed.
    """
    accepts = "gzip" in request.headers.get("Accept-Encoding", "").lower()
    plain = all(key == "lang" and value in LANGUAGES for key, value in request.args.items(multi=True))
    if accepts and plain:
        response.set_data(gzip.compress(response.get_data(), compresslevel=6))
        response.headers["Content-Encoding"] = "gzip"
    response.vary.add("Accept-Encoding")
    return response


@bp.route("/hanoi-outline.geojson")
@allow(Role.AGENT)
def hanoi_outline():
    """Hanoi's outline (3 KB) so the map reads without tiles."""
    return Response(HANOI_OUTLINE.read_bytes(), mimetype="application/geo+json",
                    headers={"Cache-Control": "private, max-age=86400"})


@bp.route("/static/<path:filename>")
@public
def portal_static(filename: str):
    """The portal's own script and styles (the new-dossier page inlines them; see new_dossier)."""
    return send_from_directory(STATIC_DIR, filename, max_age=3600)
