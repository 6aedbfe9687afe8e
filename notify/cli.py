"""``flask notify``: SMS housekeeping."""

from __future__ import annotations

from datetime import timedelta

import click
from flask.cli import AppGroup

from core.timeutil import utcnow
from notify import service

notify_cli = AppGroup("notify", help="SMS notifications.")


@notify_cli.command("purge")
@click.option("--days", type=float, default=None,
              help="Purge messages older than this many days (default: SMS_RETENTION_DAYS).")
def purge(days: float | None):
    """Null the phone numbers and bodies of messages past the retention period."""
    older_than = utcnow() - timedelta(days=days) if days is not None else None
    click.echo(f"purged {service.purge(older_than=older_than)} message(s)")
