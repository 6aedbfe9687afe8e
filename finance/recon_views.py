"""The reconciliation page (HTML): the runs and their counts, "run now" for a period, the payouts."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from core.auth import allow, current_principal
from core.errors import DomainError
from core.roles import Role
from core.timeutil import to_local, utcnow
from core.web import private_page
from finance import recon
from finance.queue_labels import KIND_LABELS
from finance.recon_forms import RunForm
from finance.recon_sql import KINDS
from payments.errors import GatewayError

bp = Blueprint("finance_recon", __name__, url_prefix="/finance/reconciliation", template_folder="templates")
FINANCE = (Role.FINANCE, Role.ADMIN)

RUN_STATUS_LABELS = {"running": _l("Running"), "succeeded": _l("Done"), "failed": _l("Failed")}


def _page(form: RunForm | None = None, *, error: str | None = None, status: int = 200):
    if form is None:
        yesterday = to_local(utcnow()).date() - timedelta(days=1)
        form = RunForm(formdata=None, period_from=yesterday, period_to=yesterday)
    page = render_template("finance/recon_index.html", form=form, runs=recon.runs(), payouts=recon.payout_summary(),
                           kinds=[(k.value, KIND_LABELS[k.value]) for k in KINDS], status_labels=RUN_STATUS_LABELS,
                           error=error)
    return private_page(page, status)


@bp.get("")
@allow(*FINANCE)
def index():
    return _page()


@bp.post("/runs")
@allow(*FINANCE)
def run_now():
    form = RunForm()
    if not form.validate_on_submit():
        return _page(form, status=422)
    try:
        run = recon.reconcile(form.period_from.data, form.period_to.data, principal=current_principal())
    except DomainError as exc:
        return _page(form, error=(exc.detail or exc.title).get(str(get_locale())), status=exc.status)
    except GatewayError:  # the run is recorded as failed with its error; the page says so
        return _page(form, error=_("The payment gateway did not answer; the run is listed as failed. Try again "
                                   "later."), status=502)
    flash(_("Reconciliation %(id)s done: %(new)s new exception(s), %(cleared)s cleared.", id=run["id"],
            new=sum(run["counts"]["new"].values()), cleared=run["counts"]["cleared"]))
    return redirect(url_for(".index"))
