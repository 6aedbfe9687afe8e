"""Concurrent workers on PostgreSQL: one dossier per Idempotency-Key, no duplicate numbers."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from core.extensions import db
from dossiers.models import Dossier
from tests.factories import auth, dossier_body

pytestmark = pytest.mark.postgres


def _race(app, calls):
    """Run the callables at once, each with its own app context and connection."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        client = app.test_client()
        barrier.wait()
        return call(client)

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def test_concurrent_duplicates_create_exactly_one_dossier(app, agent_key):
    body = dossier_body()

    def post(client):
        return client.post("/api/v1/dossiers", json=body, headers=auth(agent_key, **{"Idempotency-Key": "race"}))

    responses = _race(app, [post] * 12)
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 11 + [201], [r.get_json() for r in responses]
    assert len({r.get_json()["number"] for r in responses}) == 1
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Dossier)) == 1


def test_concurrent_registrations_never_share_a_number(app, agent_key):
    def post_with(key):
        def post(client):
            return client.post("/api/v1/dossiers", json=dossier_body(),
                               headers=auth(agent_key, **{"Idempotency-Key": key}))
        return post

    responses = _race(app, [post_with(f"n-{i}") for i in range(12)])
    assert all(r.status_code == 201 for r in responses), [r.get_json() for r in responses]
    numbers = sorted(r.get_json()["number"] for r in responses)
    assert len(set(numbers)) == 12
    # All went to the same point (one agency) the same day: a gap-free run 0001..0012 of its code.
    assert len({n[:-5] for n in numbers}) == 1 and numbers[0].split("-")[0].endswith(".H26")
    assert [n[-4:] for n in numbers] == [f"{i:04d}" for i in range(1, 13)]


def test_two_concurrent_registrations_take_consecutive_numbers_of_the_agency(app, agent_key):
    """Circular 01/2018/TT-VPCP Art. 19: <agency code>-YYMMDD-XXXX, XXXX gap-free per agency and day,
    whoever commits first: the agency's counter row is locked by the first upsert until it commits."""
    from dossiers import codes

    def post_with(key):
        def post(client):
            return client.post("/api/v1/dossiers", json=dossier_body(),
                               headers=auth(agent_key, **{"Idempotency-Key": key}))
        return post

    responses = _race(app, [post_with("two-a"), post_with("two-b")])
    assert [r.status_code for r in responses] == [201, 201], [r.get_json() for r in responses]
    bodies = [r.get_json() for r in responses]
    agency = codes.agency_code_for(bodies[0]["service_point"]["service_point_code"])
    assert {b["agency_code"] for b in bodies} == {agency}
    day = bodies[0]["number"].split("-")[1]
    assert sorted(b["number"] for b in bodies) == [f"{agency}-{day}-0001", f"{agency}-{day}-0002"]
