"""The finance reports' pages: the treasury report (with its exports and a printable page) and the charts.

The period is ?from=YYYY-MM-DD&to=YYYY-MM-DD (local days, both included); without it, the month so far.
A period that ends before it starts is refused on the page, in the reader's language.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _

from core import charts
from core.auth import allow, current_principal
from core.errors import DomainError
from core.roles import Role
from core.web import money, private_page, refusal_text
from finance import dashboard, queue_labels, treasury, treasury_export
from finance.queue_forms import TransferForm
from finance.queue_labels import BUCKET_LABELS, KIND_LABELS, LEVEL_LABELS, label
from payments.labels import method_label

bp = Blueprint("finance_reports", __name__, url_prefix="/finance/reports", template_folder="templates")
bp.record_once(lambda state: queue_labels.register(state.app))
FINANCE = (Role.FINANCE, Role.ADMIN)


def _day(name: str) -> date | None:
    raw = (request.args.get(name) or "").strip()
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def _period() -> treasury.Period:
    """The asked period; none asked: the month so far. Refused (DomainError) when it does not read."""
    if not request.args.get("from") and not request.args.get("to"):
        return treasury.month_so_far()
    return treasury.period(_day("from"), _day("to"))


def _export_label(group: str, key: str) -> str:
    headers = {"level": _("Level"), "sector": _("Sector"), "dossiers": _("Dossiers"),
               "collected_vnd": _("State fees collected (VND)"), "refunded_vnd": _("Refunded (VND)"),
               "adjusted_vnd": _("Adjusted (VND)"), "net_vnd": _("Net (VND)"), "transferred_on": _("Day"),
               "reference": _("Reference"), "amount_vnd": _("Amount (VND)"), "recorded_by": _("Recorded by")}
    if group in ("header", "transfer"):
        return headers.get(key, key)
    if group == "level":
        return label(LEVEL_LABELS, key) if key else _("No procedure")
    return {"total": _("Total"), "transferred": _("Transferred to the treasury"),
            "outstanding": _("Outstanding")}[group]


def _treasury_page(template: str, form: TransferForm | None = None, *, error: str | None = None, status: int = 200):
    principal = current_principal()
    try:
        when = _period()
    except DomainError as exc:
        when, error, status = treasury.month_so_far(), refusal_text(exc), exc.status
    report = treasury.report(principal, when)
    if form is None:
        form = TransferForm(formdata=None)
        form.transferred_on.data = when.end
    page = render_template(template, report=report, when=when, form=form, error=error,
                           period_args={"from": when.start.isoformat(), "to": when.end.isoformat()})
    return private_page(page, status)


@bp.get("/treasury", endpoint="treasury")
@allow(*FINANCE)
def treasury_report():
    """State fees collected, refunded, net and transferred, per procedure level and sector."""
    return _treasury_page("finance/treasury.html")


@bp.get("/treasury/print")
@allow(*FINANCE)
def treasury_print():
    return _treasury_page("finance/treasury_print.html")


def _export(kind: str):
    principal = current_principal()
    try:
        when = _period()
    except DomainError as exc:
        return _treasury_page("finance/treasury.html", error=refusal_text(exc), status=exc.status)
    report = treasury.report(principal, when)
    name = f"treasury-{when.start.isoformat()}-{when.end.isoformat()}"
    if kind == "csv":
        body, mime = treasury_export.to_csv(report, _export_label), "text/csv; charset=utf-8"
    else:
        title = _("Treasury report %(start)s – %(end)s", start=format_date(when.start, "short"),
                  end=format_date(when.end, "short"))
        body = treasury_export.to_xlsx(report, _export_label, title)
        mime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response = make_response(body)
    response.headers["Content-Type"] = mime
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.{kind}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/treasury.csv")
@allow(*FINANCE)
def treasury_csv():
    return _export("csv")


@bp.get("/treasury.xlsx")
@allow(*FINANCE)
def treasury_xlsx():
    return _export("xlsx")


@bp.post("/treasury/transfers")
@allow(*FINANCE)
def record_transfer():
    form = TransferForm()
    if not form.validate_on_submit():
        return _treasury_page("finance/treasury.html", form, status=422)
    try:
        done = treasury.record_transfer(current_principal(), form.amount.data, form.transferred_on.data,
                                        form.reference.data, form.note.data)
    except DomainError as exc:
        return _treasury_page("finance/treasury.html", form, error=refusal_text(exc), status=exc.status)
    flash(_("Transfer %(reference)s of %(amount)s to the State Treasury recorded.", reference=done["reference"],
            amount=money(done["amount_vnd"])))
    return redirect(url_for(".treasury", **request.args))


@bp.get("/dashboard", endpoint="dashboard")
@allow(*FINANCE)
def dashboard_page():
    """Daily collections by method, cash held by agents, open exceptions by age."""
    error, status = None, 200
    try:
        when = _period()
    except DomainError as exc:
        when, error, status = treasury.month_so_far(), refusal_text(exc), exc.status
    days = [format_date(d, "dd/MM") for d in when.days()]
    collections = {method_label(m): values for m, values in dashboard.daily_collections(when).items()}
    held = dashboard.cash_by_agent()
    cash_labels = [f"{name} ({code})" if name != code else code for code, name, _amount in held]
    cash_series = {_("Cash held"): [amount for _code, _name, amount in held]}
    by_age = {label(KIND_LABELS, kind): values for kind, values in dashboard.exceptions_by_age().items()}
    bucket_labels = [label(BUCKET_LABELS, b) for b in dashboard.queue.BUCKET_KEYS]
    every = max(1, -(-len(days) // 12))  # about a dozen day labels, however long the period
    most = max([sum(column) for column in zip(*by_age.values(), strict=True)] or [0])
    step = max(1, -(-most // 8))
    figures = {
        "collections": (charts.stacked_bar(_("Daily collections by method"), days, collections, money, height=420,
                                           x_labels_major_every=every, show_minor_x_labels=False, margin_bottom=40),
                        _("Daily collections by method"), days, collections),
        # pygal draws a horizontal bar chart's first label at the bottom: reversed, the most cash is on top.
        "cash": (charts.horizontal_bar(_("Cash held by agents"), cash_labels[::-1],
                                       {name: values[::-1] for name, values in cash_series.items()}, money,
                                       x_labels_major_count=5, show_minor_x_labels=False)
                 if held else None, _("Cash held by agents"), cash_labels, cash_series),
        "exceptions": (charts.stacked_bar(_("Open exceptions by age"), bucket_labels, by_age, height=420,
                                          y_labels=list(range(0, most + step, step)), margin_bottom=40)
                       if by_age else None, _("Open exceptions by age"), bucket_labels, by_age),
    }
    page = render_template("finance/dashboard.html", figures=figures, when=when, error=error, money=money,
                           period_args={"from": when.start.isoformat(), "to": when.end.isoformat()})
    return private_page(page, status)

