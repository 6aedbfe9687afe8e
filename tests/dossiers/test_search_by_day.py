"""The portal's "today" is the local day in Hanoi, whatever the UTC date (and however SQLite stores times)."""

from __future__ import annotations

from datetime import datetime

import pytest

from core.accounts import authenticate_key
from core.timeutil import LOCAL_TZ
from dossiers import service
from tests import factories

pytestmark = pytest.mark.smoke


def test_a_dossier_received_just_after_local_midnight_is_found_on_that_local_day(app, client, agent_key, clock):
    clock.set(datetime(2026, 3, 11, 0, 30, tzinfo=LOCAL_TZ))  # 17:30 UTC on 10 March: another UTC date
    created = factories.create_dossier(client, agent_key)
    with app.app_context():
        principal = authenticate_key(agent_key)
        on_the_day = service.search(principal, day=datetime(2026, 3, 11).date())
        the_day_before = service.search(principal, day=datetime(2026, 3, 10).date())
    assert [d.number for d in on_the_day] == [created["number"]]
    assert the_day_before == []
