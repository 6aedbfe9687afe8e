"""Command-line interface: ``flask demo``, ``flask agents``, ``flask users``, ``flask catalog``."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from core import accounts
from core.demo import DEMO_PASSWORD, USERS, load_demo
from core.errors import DomainError
from dossiers import catalogue
from geo.cli import geo_cli


def _fail(exc: DomainError) -> None:
    raise click.ClickException(f"{exc.detail.vi if exc.detail else exc.title.vi} / "
                               f"{exc.detail.en if exc.detail else exc.title.en}")


demo_cli = AppGroup("demo", help="Demo data.")
agents_cli = AppGroup("agents", help="Agent organisations and their API keys.")
users_cli = AppGroup("users", help="Staff and agent users and their personal API keys.")
catalog_cli = AppGroup("catalog", help="The procedure catalogue.")


@demo_cli.command("load")
def demo_load():
    """Load the Hanoi network, the demo catalogue, organisations and users (idempotent)."""
    result = load_demo()
    p, c = result["points"], result["procedures"]
    click.echo(f"service points: {p.created} created, {p.updated} checked, {len(p.rejected)} rejected")
    click.echo(f"procedures:     {c.created} created, {c.updated} checked, {len(c.rejected)} rejected")


@demo_cli.command("logins")
def demo_logins():
    """Print the demo logins."""
    click.echo(f"Demo logins (password for all: {DEMO_PASSWORD}):")
    for email, name, role, org, point in USERS:
        where = org or point or "-"
        click.echo(f"  {role.value:<15} {email:<32} {name} [{where}]")
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
    try:
        issued = accounts.issue_organisation_key(org_code, name)
    except DomainError as exc:
        _fail(exc)
    click.echo(issued.key)
    click.echo(f"# key {issued.prefix}… for {issued.owner}: store it now, it is not shown again", err=True)


@agents_cli.command("revoke-key")
@click.argument("prefix")
def agents_revoke_key(prefix: str):
    """Revoke a key by the first 12 characters shown at creation."""
    click.echo(f"revoked {accounts.revoke_key(prefix)} key(s)")


@users_cli.command("list")
def users_list():
    """One user per line: email, role, organisation or service point, name."""
    for user in accounts.list_users():
        scope = user.organisation.code if user.organisation else (user.service_point_id or "-")
        click.echo(f"{user.email}\t{user.role.value}\t{scope}\t{user.full_name}")


@users_cli.command("create-key")
@click.argument("email")
@click.option("--name", default="personal", help="A label for the key.")
def users_create_key(email: str, name: str):
    """Issue a personal API key carrying the user's role; printed once."""
    try:
        issued = accounts.issue_user_key(email, name)
    except DomainError as exc:
        _fail(exc)
    click.echo(issued.key)
    click.echo(f"# key {issued.prefix}… for {issued.owner}: store it now, it is not shown again", err=True)


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


def register_cli(app: Flask) -> None:
    for group in (demo_cli, agents_cli, users_cli, catalog_cli, geo_cli):
        app.cli.add_command(group)
