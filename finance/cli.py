"""``flask finance …``: the finance commands (``reconcile``; other finance commands join this group)."""

from __future__ import annotations

from datetime import datetime

import click
from flask.cli import AppGroup

from core.errors import DomainError
from finance import recon
from finance.recon_sql import KINDS

finance_cli = AppGroup("finance", help="Finance: reconciliation of the gateway and the bank statement.")


def _day(ctx, param, value):
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise click.BadParameter(f"{value!r}: ngày dạng YYYY-MM-DD / a date as YYYY-MM-DD") from None


@finance_cli.command("reconcile")
@click.option("--from", "period_from", required=True, callback=_day, help="first day (YYYY-MM-DD, Hanoi)")
@click.option("--to", "period_to", required=True, callback=_day, help="last day, included (YYYY-MM-DD)")
def reconcile_command(period_from, period_to):
    """Fetch the gateway's side of a period, match it with the ledger and the bank, print a summary per class."""
    try:
        recon.check_period(period_from, period_to)  # a bad period is a usage error (exit 2): nothing runs
    except DomainError as exc:
        detail = exc.detail or exc.title
        raise click.BadParameter(f"{detail.vi} / {detail.en}", param_hint="'--to'") from None
    steps = len(KINDS) + 4  # the pairs, the classes, the queue, the clearing, the bank lines
    with click.progressbar(length=steps, label="Đối soát / Reconciling", show_pos=True) as bar:
        fetched = [0]

        def progress(stage: str, n: int) -> None:
            if stage == "fetch":
                fetched[0] += n
                bar.label = f"Tải từ cổng thanh toán / Fetching: {fetched[0]}"
                bar.render_progress()
            else:
                bar.label = "Đối chiếu / Matching"
                bar.update(n)

        try:
            run = recon.reconcile(period_from, period_to, actor="cli", progress=progress)
        except DomainError as exc:
            detail = exc.detail or exc.title
            raise click.ClickException(f"{detail.vi} / {detail.en}") from None
    counts = run["counts"]
    fetched_counts = counts.get("fetched", {})
    click.echo(f"Run {run['id']} {run['period_from']}..{run['period_to']}: {run['status']}")
    click.echo(f"fetched: {fetched_counts.get('transactions', 0)} transactions, {fetched_counts.get('payouts', 0)} "
               f"payouts ({fetched_counts.get('payout_transactions', 0)} payout transactions); bank lines linked "
               f"to payouts: {sum(counts.get('bank', {}).values())}")
    click.echo(f"{'class':<24}{'found':>8}{'new':>8}")
    for kind in KINDS:
        click.echo(f"{kind.value:<24}{counts['found'][kind.value]:>8}{counts['new'][kind.value]:>8}")
    click.echo(f"cleared (matched now): {counts['cleared']}")
