"""The platform's one clock: core.timeutil.utcnow asks the installed Clock; the ``clock`` fixture freezes it."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from core import timeutil
from core.timeutil import LOCAL_TZ, FrozenClock, to_local, utcnow
from courier import clock as courier_clock
from tests.conftest import OFFICE_MORNING
from tests.factories import auth

pytestmark = pytest.mark.smoke

ROUTING = "/api/v1/routing?lat=21.0301&lon=105.8501&procedure=HN-TP-001"


def test_the_fixture_freezes_every_now_at_a_working_day_morning(clock):
    assert utcnow() == OFFICE_MORNING == courier_clock.now()
    local = to_local(utcnow())
    assert (local.weekday(), local.hour) == (1, 9)  # a Tuesday, 09:00 in Hanoi
    assert clock.advance(minutes=90) == utcnow() == OFFICE_MORNING + timedelta(minutes=90)
    assert clock.set(datetime(2026, 3, 10, 21, 0, tzinfo=LOCAL_TZ)).hour == 21
    assert utcnow() == datetime(2026, 3, 10, 14, 0, tzinfo=timezone.utc)
    assert utcnow().tzinfo == timezone.utc


def test_a_frozen_clock_refuses_naive_times_and_going_back():
    frozen = FrozenClock(OFFICE_MORNING)
    with pytest.raises(ValueError):
        frozen.set(datetime(2026, 3, 10, 9, 0))
    with pytest.raises(ValueError):
        frozen.advance(minutes=-1)


def test_the_system_clock_is_back_after_a_test():
    assert timeutil.current_clock() is timeutil.SYSTEM_CLOCK
    assert abs(utcnow() - datetime.now(timezone.utc)) < timedelta(minutes=1)


def test_rows_are_stamped_by_the_platform_clock(app, client, agent_key, clock):
    from tests.factories import create_dossier

    created = create_dossier(client, agent_key)
    assert datetime.fromisoformat(created["received_at"]) == OFFICE_MORNING


def test_routing_follows_the_injected_time_of_day(app, client, agent_key, clock):
    morning = client.get(ROUTING, headers=auth(agent_key)).get_json()
    assert morning["relaxed"] == [] and "closed" not in morning["explanation_en"]
    clock.set(datetime(2026, 3, 10, 21, 0, tzinfo=LOCAL_TZ))  # after office hours: every demo point is closed
    evening = client.get(ROUTING, headers=auth(agent_key)).get_json()
    assert "opening_hours" in evening["relaxed"] and "closed at this hour" in evening["explanation_en"]
