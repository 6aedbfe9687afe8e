"""Background entry point of the quality alerts: raised every 15 minutes on the outbox (core.periodic)."""

from __future__ import annotations

from datetime import datetime, timedelta

from backoffice import alerts
from core.periodic import periodic
from core.timeutil import utcnow

TOPIC = "backoffice.quality_alerts"


@periodic(TOPIC, every=timedelta(minutes=15))
def quality_alerts(occurrence: datetime) -> dict:
    """Every quarter of an hour: the alerts due now (a late occurrence judges by the present, not its slot)."""
    return alerts.raise_alerts(max(occurrence, utcnow()))
