"""The agents' tablet portal (HTML)."""

from __future__ import annotations

import gzip
import json
from datetime import date
from pathlib import Path

from flask import Blueprint, Response, current_app, render_template, request, send_from_directory, url_for
from flask_babel import get_locale
from flask_login import current_user

from agent_portal import assets
from core.auth import allow, current_principal, public
from core.errors import NotFound
from core.roles import Role
from core.timeutil import to_local, utcnow
from core.views import STATIC_DIR as CORE_STATIC_DIR
from core.web import LANGUAGES
from dossiers import service as dossiers
from dossiers.models import Status
from dossiers.validators import CCCD_PROVINCE_CODES
from finance import cash as finance_cash
from payments import service as payments
from payments.schemas import PaymentSchema, QuoteSchema

bp = Blueprint("agent_portal", __name__, url_prefix="/portal", template_folder="templates")
# An explicit, @public route rather than the blueprint's static_folder: Flask's own
# static endpoint would carry no access rule, and unruled routes are refused.
STATIC_DIR = assets.STATIC_DIR
HANOI_OUTLINE = Path(__file__).resolve().parent.parent / "geo" / "data" / "hanoi_boundary.geojson"
MAX_IMAGE_PX = 1600  # photos are shrunk on the tablet to this many pixels on the long side
JPEG_QUALITY = 0.85
RECEIPT_DELAY_MS = 2500  # the number stays on screen this long before the payment page opens
ASSET_MAX_AGE = 365 * 24 * 3600  # versioned modules and styles: a deploy changes their URLs
NEW_DOSSIER_ENTRY = "js/new_dossier/main.js"
PAY_ENTRY = "js/pay/main.js"


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
                           day=day, statuses=list(Status), cash_banner=finance_cash.agent_banner(current_principal()))


def _page_assets(entry: str, styles: list[str]) -> dict:
    """URLs of a page's stylesheets, its entry module and every module it imports (modulepreload).

    The modules are separate, long-cached files; on a cold load the browser fetches them all in
    parallel right after the HTML (modulepreload), and afterwards from its cache or the service worker.
    """
    return {
        "styles": [_core_css()] + [asset_url(name) for name in styles],
        "preload": [asset_url(name) for name in assets.module_graph(entry)],
        "entry": asset_url(entry),
    }


def asset_url(name: str) -> str:
    return url_for("agent_portal.versioned_static", version=assets.tree().version, filename=name)


def _core_css() -> str:
    return url_for("web.core_static", filename="app.css", v=assets.file_hash(CORE_STATIC_DIR / "app.css"))


@bp.route("/new")
@allow(Role.AGENT)
def new_dossier():
    """The step-by-step new-dossier flow for a tablet.

    Its modules and styles are cached static files (see agent_portal.assets) and the service
    worker keeps them with the page, so it reloads with no connection. Leaflet is fetched only
    when the agent opens the map.
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
        "acceptedTypes": sorted(dossiers.ACCEPTED_TYPES),
        "serviceWorker": url_for("agent_portal.service_worker"),
        "serviceWorkerScope": url_for("agent_portal.home") + "/",
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
    page = render_template("agent_portal/new.html", config=config,
                           assets=_page_assets(NEW_DOSSIER_ENTRY, ["new_dossier.css"]))
    return _compressed(Response(page, mimetype="text/html"))


@bp.route("/dossiers/<number>/pay")
@allow(Role.AGENT)
def pay(number: str):
    """Taking the fees on the tablet: the quote, then card, VietQR or cash, and the e-receipt.

    Modules and styles as on the new-dossier page. The state at load comes from the server (so a return
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
        receipt_url=config["urls"]["receipt"], assets=_page_assets(PAY_ENTRY, ["pay.css"]),
    )
    response = _compressed(Response(page, mimetype="text/html"))
    response.headers["Cache-Control"] = "private, no-store"  # the payment's state, never a stale copy
    return response


def _compressed(response: Response) -> Response:
    """Gzip a page when nothing in the request can be echoed into it.

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
    """The portal's own files under an unversioned URL (an hour's cache); the pages use versioned_static."""
    return send_from_directory(STATIC_DIR, filename, max_age=3600)


@bp.route("/static/v/<version>/<path:filename>")
@public
def versioned_static(version: str, filename: str):
    """The portal's modules and styles under the static tree's version: cached for a year, immutable.

    A page of an older deploy asking for its version gets today's file, uncached, rather than a 404.
    """
    current = version == assets.tree().version
    response = send_from_directory(STATIC_DIR, filename, max_age=ASSET_MAX_AGE if current else 0)
    if current:
        response.cache_control.immutable = True
        response.cache_control.public = True
    else:
        response.cache_control.no_cache = True
    return response


@bp.route("/sw.js")
@public
def service_worker():
    """The tablet's service worker (its scope is /portal/): it keeps the new-dossier page, its modules
    and styles, so the page reloads with no connection. Never cached itself, so a deploy reaches it."""
    tree = assets.tree()
    page = _page_assets(NEW_DOSSIER_ENTRY, ["new_dossier.css"])
    precache = page["styles"] + page["preload"]
    head = "const VERSION = {};\nconst ASSETS = {};\nconst SHELL = {};\n".format(
        json.dumps(tree.version), json.dumps(precache), json.dumps([url_for("agent_portal.new_dossier")]))
    body = head + (STATIC_DIR / "js" / "sw.js").read_text(encoding="utf-8")
    return Response(body, mimetype="text/javascript", headers={"Cache-Control": "no-cache"})
