"""Command-line interface: ``flask demo``, ``flask agents``, ``flask users``, ``flask catalog``, ``flask jobs``."""

from __future__ import annotations

from datetime import timedelta

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from redis.exceptions import RedisError

from app.demo import DEMO_PASSWORD, USERS, load_demo
from app.demo_agents import AGENT_POINTS
from core import accounts, jobs, jobs_admin, outbox
from core.errors import DomainError
from core.settings import settings
from dossiers import catalogue
from finance.cli import finance_cli
from geo import service as geo
from geo.cli import geo_cli
from notify.cli import notify_cli


def _fail(exc: DomainError) -> None:
    raise click.ClickException(f"{exc.detail.vi if exc.detail else exc.title.vi} / "
                               f"{exc.detail.en if exc.detail else exc.title.en}")


demo_cli = AppGroup("demo", help="Demo data.")
agents_cli = AppGroup("agents", help="Agent organisations and their API keys.")
users_cli = AppGroup("users", help="Staff and agent users and their personal API keys.")
catalog_cli = AppGroup("catalog", help="The procedure catalogue.")
jobs_cli = AppGroup("jobs", help="Background jobs: the outbox, the relay to rq, failed jobs.")


@demo_cli.command("load")
@click.option("--no-month", is_flag=True, help="Skip the demo month of dossiers (app/demo_month.py).")
def demo_load(no_month: bool):
    """Load the Hanoi network, the demo catalogue, organisations, agent points, users and a month of
    dossiers (idempotent)."""
    result = load_demo(month=not no_month)
    p, c = result["points"], result["procedures"]
    click.echo(f"service points: {p.created} created, {p.updated} checked, {len(p.rejected)} rejected")
    if p.unplaced:  # named by the sources, office not found: not placed by guess
        click.echo(f"  not placed:   {', '.join(u['code'] for u in p.unplaced)} (no office found; geo/data/SOURCES.md)")
    click.echo(f"procedures:     {c.created} created, {c.updated} checked, {len(c.rejected)} rejected")
    click.echo(f"agent points:   {result['agent_points']}")
    month = result.get("month")
    if month is not None:
        took = f" in {month['seconds']} s" if month.get("seconds") is not None else ""
        click.echo(f"demo month:     {month['created']} dossiers created{took}; {month['dossiers']} in all, "
                   f"from {month['month_start'].isoformat()} over {month['days']} days")
        click.echo(f"  by status:    {_pairs(month['by_status'])}")
        click.echo(f"  paid by:      {_pairs(month['paid_by_method'])}; refunds: {month['refunds']}")
        click.echo(f"  results:      {month['results_on_time']} on time, {month['results_late']} late; "
                   f"overdue now: {month['overdue']}; outside the service radius: {month['outside_radius']}")
        click.echo(f"  ratings:      {_pairs(month['ratings'])}")


def _pairs(counts: dict) -> str:
    return ", ".join(f"{key} {value}" for key, value in counts.items()) or "-"


@demo_cli.command("logins")
def demo_logins():
    """Print the demo logins."""
    click.echo(f"Demo logins (password for all: {DEMO_PASSWORD}):")
    for email, name, role, org, point in USERS:
        where = org or point or "-"
        click.echo(f"  {role.value:<15} {email:<32} {name} [{where}]")
    listed = {email for email, *_ in USERS}
    for spec in AGENT_POINTS:
        if spec.email not in listed:
            click.echo(f"  {'agent':<15} {spec.email:<32} {spec.agent_name} [{spec.organisation}: {spec.name}]")
    click.echo("API keys: flask agents create-key VNPOST-HN  |  flask users create-key EMAIL")


@agents_cli.command("list")
def agents_list():
    """One organisation per line: code, kind, active keys, name."""
    keys = accounts.list_keys()
    for org in accounts.list_organisations():
        live = sum(1 for k in keys if k.organisation_id == org.id and k.revoked_at is None)
        state = "active" if org.is_active else "inactive"
        click.echo(f"{org.code}\t{org.kind.value}\t{state}\t{live} key(s)\t{org.name}")


@agents_cli.command("create-key")
@click.argument("org_code")
@click.option("--name", default="default", help="A label for the key.")
def agents_create_key(org_code: str, name: str):
    """Issue an API key for an organisation; it is printed once and never again."""
    _issue(accounts.issue_organisation_key, org_code, name)


def _issue(issue, owner: str, name: str) -> None:
    """Issue a key through ``issue`` and print it once (the key on stdout, the note on stderr)."""
    try:
        issued = issue(owner, name)
    except DomainError as exc:
        _fail(exc)
    click.echo(issued.key)
    click.echo(f"# key {issued.prefix}… for {issued.owner}: store it now, it is not shown again", err=True)


def _rotate(prefix: str, overlap_hours: float | None) -> None:
    hours = settings().api_key_rotation_overlap_h if overlap_hours is None else overlap_hours
    try:
        rotated = accounts.rotate_key(prefix=prefix, overlap=timedelta(hours=hours))
    except DomainError as exc:
        _fail(exc)
    click.echo(rotated.new.key)
    click.echo(f"# key {rotated.new.prefix}… for {rotated.new.owner}: store it now, it is not shown again; "
               f"the old key {rotated.old_prefix}… works until {rotated.old_expires_at.isoformat()}", err=True)


@agents_cli.command("rotate-key")
@click.argument("prefix")
@click.option("--overlap-hours", type=float, default=None,
              help="How long the old key keeps working (default API_KEY_ROTATION_OVERLAP_H).")
def agents_rotate_key(prefix: str, overlap_hours: float | None):
    """Issue a new key for the owner of the key PREFIX; the old one works for the overlap, then is revoked."""
    _rotate(prefix, overlap_hours)


@agents_cli.command("revoke-key")
@click.argument("prefix")
def agents_revoke_key(prefix: str):
    """Revoke a key by the first 12 characters shown at creation."""
    click.echo(f"revoked {accounts.revoke_key(prefix)} key(s)")


@users_cli.command("list")
def users_list():
    """One user per line: email, role, organisation or service point, name."""
    for user in accounts.list_users():
        point = geo.point_by_id(user.service_point_id) if user.service_point_id is not None else None
        scope = user.organisation.code if user.organisation else (point.code if point else "-")
        click.echo(f"{user.email}\t{user.role.value}\t{scope}\t{user.full_name}")


@users_cli.command("rotate-key")
@click.argument("prefix")
@click.option("--overlap-hours", type=float, default=None,
              help="How long the old key keeps working (default API_KEY_ROTATION_OVERLAP_H).")
def users_rotate_key(prefix: str, overlap_hours: float | None):
    """Issue a new personal key replacing the key PREFIX; the old one works for the overlap, then is revoked."""
    _rotate(prefix, overlap_hours)


@users_cli.command("create-key")
@click.argument("email")
@click.option("--name", default="personal", help="A label for the key.")
def users_create_key(email: str, name: str):
    """Issue a personal API key carrying the user's role; printed once."""
    _issue(accounts.issue_user_key, email, name)


@catalog_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def catalog_import(path: str):
    """Create or update procedures from a CSV file; report rejected rows and why."""
    with open(path, encoding="utf-8", newline="") as fh:
        report = catalogue.import_csv(fh.read())
    click.echo(f"{report.created} created, {report.updated} updated, {len(report.rejected)} rejected")
    for rejected in report.rejected:
        for error in rejected["errors"]:
            click.echo(f"  line {rejected['line']} ({rejected['code'] or '?'}): {error['field']}: "
                       f"{error['message_vi']} / {error['message_en']}")
    if report.rejected:
        raise SystemExit(2)  # accepted rows are kept; 2 tells scripts some were refused


@jobs_cli.command("run")
def jobs_run():
    """Run every due outbox message once, in this process (the embedded runner's work)."""
    done = failed = 0
    while ids := outbox.due_ids(limit=100):
        for message_id in ids:
            result = outbox.run_one(message_id)
            done += result is True
            failed += result is False
    click.echo(f"{done} done, {failed} failed (to be retried or listed by `flask jobs failed`)")


def _redis_configured() -> None:
    if not settings().redis_url:
        raise click.ClickException("REDIS_URL is not set: jobs run in-process, there is no relay "
                                   "(see `flask jobs run`)")


@jobs_cli.command("relay")
@click.option("--once", is_flag=True, help="Hand every due message to rq, then exit.")
def jobs_relay(once: bool):
    """Hand due outbox messages to rq (REDIS_URL) as they become due; Ctrl-C stops."""
    _redis_configured()
    if once:
        try:
            handed = jobs.relay_due()
        except jobs.RelayUnavailable as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"{handed} message(s) handed to rq")
        return
    click.echo(f"relaying due outbox messages to {jobs.safe_url(current_app.config['REDIS_URL'])}, "
               f"queues {' '.join(jobs.queue_names())}", err=True)
    jobs.relay_forever(current_app._get_current_object())


@jobs_cli.command("queues")
def jobs_queues():
    """Print the rq queue names a worker listens to (for `rq worker`)."""
    click.echo(" ".join(jobs.queue_names()))


def _one_line(text: str | None, width: int = 100) -> str:
    line = " ".join((text or "").split())
    return line if len(line) <= width else line[: width - 1] + "…"


@jobs_cli.command("failed")
def jobs_failed():
    """List failed outbox messages (attempts used up) and, with REDIS_URL, rq's failed jobs."""
    messages = jobs_admin.failed_messages()
    click.echo(f"outbox: {len(messages)} failed message(s)")
    for m in messages:
        finished = m.finished_at.strftime("%Y-%m-%d %H:%M:%S") if m.finished_at else "-"
        click.echo(f"  #{m.id}\t{m.topic}\tattempts {m.attempts}\t{finished}\t{_one_line(m.last_error)}")
    if settings().redis_url:
        try:
            failed = jobs_admin.failed_jobs()
        except RedisError as exc:
            raise click.ClickException(f"Redis unreachable: {exc}") from exc
        click.echo(f"rq: {len(failed)} failed job(s)")
        for job in failed:
            click.echo(f"  {job['job_id']}\t{job['queue']}\t{_one_line(job['error'])}")


@jobs_cli.command("requeue")
@click.argument("ids", nargs=-1, type=int)
@click.option("--all", "everything", is_flag=True, help="Every failed message and failed rq job.")
def jobs_requeue(ids: tuple[int, ...], everything: bool):
    """Put failed messages back to pending (due now, attempts reset) and requeue rq's failed jobs."""
    if not ids and not everything:
        raise click.UsageError("give outbox message ids, or --all")
    wanted = None if everything else list(ids)
    requeued = jobs_admin.requeue_messages(wanted)
    click.echo(f"outbox: {len(requeued)} message(s) back to pending" +
               (f": {' '.join(f'#{i}' for i in requeued)}" if requeued else ""))
    if wanted is not None and (skipped := sorted(set(wanted) - set(requeued))):
        click.echo(f"  not failed, left as they are: {' '.join(f'#{i}' for i in skipped)}")
    if settings().redis_url:
        try:
            rq_jobs = jobs_admin.requeue_jobs(wanted)
        except RedisError as exc:
            raise click.ClickException(f"Redis unreachable: {exc}") from exc
        click.echo(f"rq: {len(rq_jobs)} failed job(s) requeued" + (f": {' '.join(rq_jobs)}" if rq_jobs else ""))


@jobs_cli.command("schedule")
def jobs_schedule():
    """Put the next occurrence of every periodic job (nightly reconciliation, alerts) in the outbox."""
    from core.periodic import SCHEDULES, ensure_scheduled

    added = ensure_scheduled()
    for topic, schedule in sorted(SCHEDULES.items()):
        when = schedule.at.strftime("%H:%M") if schedule.at else f"every {schedule.every}"
        click.echo(f"{topic}: {when} Hanoi time{' (scheduled now)' if topic in added else ''}")


@jobs_cli.command("stats")
def jobs_stats():
    """Outbox messages by status and topic; with REDIS_URL, the rq queues."""
    try:
        result = jobs_admin.stats()
    except RedisError as exc:
        raise click.ClickException(f"Redis unreachable: {exc}") from exc
    click.echo("status\ttopic\tmessages")
    for status, topic, count in result["outbox"]:
        click.echo(f"{status}\t{topic}\t{count}")
    for q in result["queues"]:
        click.echo(f"rq {q['queue']}: {q['waiting']} waiting, {q['running']} running, "
                   f"{q['scheduled']} scheduled, {q['failed']} failed")


pii_cli = AppGroup("pii", help="Personal data at rest: encryption keys and their rotation.")
# Where CCCD and phone numbers are stored encrypted: table → {column: blind-index kind}.
ENCRYPTED_COLUMNS = {"dossiers": {"citizen_id_number": "cccd", "citizen_phone": "phone"},
                     "sms_messages": {"phone": "phone"}}


@pii_cli.command("new-key")
def pii_new_key():
    """Print a new Fernet key, to put first in PII_ENCRYPTION_KEYS."""
    from cryptography.fernet import Fernet

    click.echo(Fernet.generate_key().decode())


@pii_cli.command("rotate")
def pii_rotate():
    """Re-encrypt every stored CCCD and phone under the first key and recompute the blind indexes."""
    from core import pii
    from core.extensions import db
    from core.uow import unit_of_work

    for table, columns in ENCRYPTED_COLUMNS.items():
        with unit_of_work():  # one table at a time: a failure leaves the tables done so far rotated
            count = pii.rotate_table(db.session, table, columns)
        click.echo(f"{table}: {count} row(s) re-encrypted")


def register_cli(app: Flask) -> None:
    for group in (demo_cli, agents_cli, users_cli, catalog_cli, geo_cli, jobs_cli, notify_cli, pii_cli,
                  finance_cli):
        app.cli.add_command(group)
