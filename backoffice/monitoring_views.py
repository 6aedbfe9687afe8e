"""The centre's live monitoring pages: /monitoring (today or any period, grouped), its exports, the network map.

Administrators and the centre's leadership only. The period is ?from=YYYY-MM-DD&to=YYYY-MM-DD (local days,
both included; none given: today), grouped by ?by=point|tier|organisation|level; a period that ends before
it starts is refused on the page, in the reader's language (422). Every table of the page is exported as
CSV and XLSX from the same rows (/monitoring/export/<table>.<csv|xlsx>); the page prints (print CSS).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_babel import format_date
from flask_babel import gettext as _

from backoffice import alerts, monitoring
from backoffice.monitoring_export import to_csv, to_xlsx
from backoffice.monitoring_labels import (
    ALERT_LABELS,
    COLUMN_LABELS,
    DIMENSION_LABELS,
    LEVEL_LABELS,
    SIPAS_LABELS,
    TIER_LABELS,
    label,
)
from core import accounts, charts
from core.auth import allow, current_principal
from core.errors import DomainError
from core.roles import Role
from core.web import local_datetime, money, number, private_page, refusal_text
from geo import service as geo
from payments.labels import method_label

bp = Blueprint("monitoring", __name__, url_prefix="/monitoring", template_folder="templates")
MONITORING = (Role.ADMIN, Role.LEADERSHIP)
GROUP_COLUMNS = ("received", "resolved", "early", "on_time", "late", "overdue_now", "on_time_rate",
                 "avg_working_days", "p90_working_days", "outside_radius", "ratings", "rating_avg")
STATIC_DIR = Path(__file__).with_name("static")
TABLES = ("groups", "payments", "ratings", "sipas", "comments", "alerts")


def _day(name: str) -> date | None:
    raw = (request.args.get(name) or "").strip()
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def _asked() -> tuple[monitoring.Period, str]:
    """The asked period and grouping; none asked: today, by point. Refused (DomainError) when it does not read."""
    by = monitoring.dimension(request.args.get("by"))
    if not request.args.get("from") and not request.args.get("to"):
        return monitoring.today(), by
    return monitoring.period(_day("from"), _day("to")), by


def _group_labels(by: str) -> dict:
    if by == "point":
        return {p.id: f"{p.code} — {p.name}" for p in geo.list_points()}
    if by == "organisation":
        return {o.id: f"{o.code} — {o.name}" for o in accounts.list_organisations()}
    return {k: str(v) for k, v in (TIER_LABELS if by == "tier" else LEVEL_LABELS).items()}


def _fmt(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.2f}".replace(",", " ").replace(".", "," if str(_locale()) == "vi" else ".")
    return number(value)


def _locale():
    from flask_babel import get_locale

    return get_locale()


def tables(when: monitoring.Period, by: str) -> dict[str, dict]:
    """Every table of the page: title, headers and rows of raw values (formatted by the page, exported as such)."""
    figures = monitoring.overview(when, by)
    names = _group_labels(by)
    group_rows = sorted(([names.get(k, str(k))] + [row[c] for c in GROUP_COLUMNS]
                         for k, row in figures["rows"].items()), key=lambda r: (-r[1], r[0]))
    total = figures["total"]
    paid = monitoring.payments_by_method(when)
    ratings_total = sum(figures["distribution"].values())
    alert_rows = [[str(label(ALERT_LABELS, a["kind"])), a["subject"], local_datetime(a["raised_at"]),
                   a["summary"], _("Acknowledged") if a["acknowledged_at"] else _("Open"), a["acknowledged_by"] or "",
                   a["note"] or ""] for a in alerts.list_alerts(open_only=False, limit=200)]
    return {
        "groups": {"title": _("Dossiers by %(dimension)s", dimension=str(DIMENSION_LABELS[by]).lower()),
                   "headers": [str(DIMENSION_LABELS[by])] + [str(COLUMN_LABELS[c]) for c in GROUP_COLUMNS],
                   "rows": group_rows, "total": [_("Total")] + [total[c] for c in GROUP_COLUMNS], "figures": figures},
        "payments": {"title": _("Payments by method"),
                     "headers": [_("Method"), _("Payments"), _("Amount (VND)")],
                     "rows": [[method_label(m), v["payments"], v["amount_vnd"]] for m, v in sorted(paid.items())],
                     "total": [_("Total"), sum(v["payments"] for v in paid.values()),
                               sum(v["amount_vnd"] for v in paid.values())]},
        "ratings": {"title": _("Satisfaction ratings"),
                    "headers": [_("Rating"), _("Ratings"), _("Share (%)")],
                    "rows": [[f"{r} ★", c, round(100 * c / ratings_total, 1) if ratings_total else None]
                             for r, c in sorted(figures["distribution"].items(), reverse=True)],
                    "total": [_("Average %(value)s", value=_fmt(total["rating_avg"])), ratings_total, None]},
        "sipas": {"title": _("SIPAS criteria"),
                  "headers": [_("Criterion"), _("Answers"), _("Average (1–5)")],
                  "rows": [[str(SIPAS_LABELS[k]), v["answers"], v["average"]]
                           for k, v in monitoring.sipas(when).items()]},
        "comments": {"title": _("Citizens' comments"),
                     "headers": [_("When"), _("Dossier"), _("Service point"), _("Rating"), _("Comment")],
                     "rows": [[local_datetime(c["at"]), c["number"], c["point"], c["rating"], c["comment"]]
                              for c in monitoring.comments(when)]},
        "alerts": {"title": _("Quality alerts"),
                   "headers": [_("Alert"), _("Subject"), _("Raised"), _("Details"), _("Status"), _("Acknowledged by"),
                               _("Note")],
                   "rows": alert_rows},
    }


def _charts(when: monitoring.Period, built: dict) -> list[tuple]:
    out = []
    days = [format_date(d, "dd/MM") for d in when.days()]
    if len(days) > 1:
        daily = monitoring.daily_series(when)
        series = {_("Received"): daily["received"], _("Resolved"): daily["resolved"], _("Late"): daily["late"]}
        every = max(1, -(-len(days) // 12))
        out.append(("daily", charts.line(_("Dossiers received and resolved per day"), days, series,
                                         x_labels_major_every=every, show_minor_x_labels=False),
                    _("Dossiers received and resolved per day"), days, series))
    groups = [r for r in built["groups"]["rows"] if r[2]][:15]  # resolved in the period
    if groups:
        names = [r[0] for r in groups]
        series = {_("Early"): [r[3] for r in groups], _("On time"): [r[4] for r in groups],
                  _("Late"): [r[5] for r in groups]}
        out.append(("outcomes", charts.horizontal_bar(_("Resolved: early, on time, late"), names[::-1],
                                                      {k: v[::-1] for k, v in series.items()}),
                    _("Resolved: early, on time, late"), names, series))
    ratings = built["ratings"]["rows"]
    if any(r[1] for r in ratings):
        names = [r[0] for r in ratings]
        series = {_("Ratings"): [r[1] for r in ratings]}
        out.append(("ratings", charts.bar(_("Satisfaction ratings"), names, series), _("Satisfaction ratings"),
                    names, series))
    return out


@bp.get("", endpoint="overview")
@allow(*MONITORING)
def overview_page():
    error, status = None, 200
    try:
        when, by = _asked()
    except DomainError as exc:
        (when, by), error, status = (monitoring.today(), "point"), refusal_text(exc), exc.status
    built = tables(when, by)
    page = render_template(
        "monitoring/overview.html", when=when, by=by, tables=built, charts=_charts(when, built), error=error,
        dimensions=DIMENSION_LABELS, open_alerts=alerts.list_alerts(open_only=True), alert_labels=ALERT_LABELS,
        label=label, fmt=_fmt, money=money, group_columns=GROUP_COLUMNS, column_labels=COLUMN_LABELS,
        period_args={"from": when.start.isoformat(), "to": when.end.isoformat(), "by": by})
    return private_page(page, status)


@bp.get("/export/<any(groups, payments, ratings, sipas, comments, alerts):table>.<any(csv, xlsx):kind>")
@allow(*MONITORING)
def export(table: str, kind: str):
    try:
        when, by = _asked()
    except DomainError as exc:
        return private_page(render_template("monitoring/refused.html", error=refusal_text(exc)), exc.status)
    built = tables(when, by)[table]
    rows = list(built["rows"]) + ([built["total"]] if built.get("total") else [])
    name = f"monitoring-{table}-{when.start.isoformat()}-{when.end.isoformat()}"
    if kind == "csv":
        body, mime = to_csv(built["headers"], rows), "text/csv; charset=utf-8"
    else:
        title = f'{built["title"]} — {format_date(when.start, "short")} – {format_date(when.end, "short")}'
        body = to_xlsx(title, built["headers"], rows, table)
        mime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response = make_response(body)
    response.headers["Content-Type"] = mime
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.{kind}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/alerts/<int:alert_id>/ack")
@allow(*MONITORING)
def acknowledge(alert_id: int):
    from backoffice.forms import AckAlertForm

    form = AckAlertForm()
    if not form.validate_on_submit():
        flash(_("Not saved: %(reason)s", reason=_("write a note on what was done.")), "error")
        return redirect(url_for(".overview", **request.args), 303)
    try:
        alerts.acknowledge(current_principal(), alert_id, form.note.data)
    except DomainError as exc:
        if exc.status == 404:
            abort(404)
        flash(_("Not saved: %(reason)s", reason=refusal_text(exc)), "error")
        return redirect(url_for(".overview", **request.args), 303)
    flash(_("Alert acknowledged."))
    return redirect(url_for(".overview", **request.args), 303)


# ---------------------------------------------------------------- the network map

def _point_popup(p: dict) -> str:
    from markupsafe import escape

    return str(escape(f"{p['code']} — {p['name']}")) + "<br>" + str(escape(_(
        "%(load)s received today / capacity %(capacity)s; %(overdue)s overdue",
        load=p["load"], capacity=p["capacity"], overdue=p["overdue"])))


def load_band(percent: float | None) -> str:
    """The map's colour for today's load against the daily capacity (map.html's legend says the same):
    ``high`` above 90 %, ``mid`` from 70 % to 90 %, ``low`` under 70 %, ``none`` with no capacity known."""
    if percent is None:
        return "none"
    if percent > 90:
        return "high"
    return "mid" if percent >= 70 else "low"


@bp.get("/map", endpoint="network_map")
@allow(*MONITORING)
def network_map():
    points = monitoring.network_today()
    busiest = sorted((p for p in points if p["load"] or p["overdue"]),
                     key=lambda p: (-(p["load_percent"] or 0), -p["overdue"], p["code"]))[:30]
    cfg = current_app.config
    page = render_template("monitoring/map.html", busiest=busiest, fmt=_fmt, band=load_band,
                           tier_label=lambda t: label(TIER_LABELS, t),
                           tile_url=cfg.get("MAP_TILE_URL", ""), tile_attribution=cfg.get("MAP_TILE_ATTRIBUTION", ""))
    return private_page(page)


@bp.get("/network.json")
@allow(*MONITORING)
def network_json():
    points = monitoring.network_today()
    response = jsonify([{**p, "band": load_band(p["load_percent"]), "popup": _point_popup(p)} for p in points])
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/static/<path:filename>")
@allow(*MONITORING)
def static_file(filename: str):
    return send_from_directory(STATIC_DIR, filename, max_age=3600)
