"""PostgreSQL restarted or down under the running app: never a 500, no partial writes, recovery without a restart."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.extensions import db
from dossiers.models import Dossier
from tests import factories
from tests.factories import auth, dossier_body

pytestmark = pytest.mark.postgres


def _register(client, key: str, idem: str):
    return client.post("/api/v1/dossiers", json=dossier_body(),
                       headers=auth(key, **{"Idempotency-Key": idem}))


def _dossiers(app) -> int:
    with app.app_context():
        try:
            return db.session.scalar(select(func.count()).select_from(Dossier))
        finally:
            db.session.remove()


def test_the_request_after_a_postgres_restart_succeeds_on_a_fresh_connection(fault_app, private_postgres):
    with fault_app.app_context():
        key = factories.org_key(factories.create_org())
    client = fault_app.test_client()
    assert _register(client, key, "before-restart").status_code == 201  # the pool now holds a connection
    assert client.get("/api/v1/procedures", headers=auth(key)).status_code == 200

    private_postgres.restart()  # every pooled connection is now dead

    read = client.get("/api/v1/procedures", headers=auth(key))
    assert read.status_code == 200, read.get_data(as_text=True)
    write = _register(client, key, "after-restart")
    assert write.status_code == 201, write.get_data(as_text=True)
    assert _dossiers(fault_app) == 2


def test_postgres_down_answers_503_with_retry_after_and_writes_nothing(fault_app, private_postgres):
    with fault_app.app_context():
        key = factories.org_key(factories.create_org())
    client = fault_app.test_client()
    assert _register(client, key, "first").status_code == 201
    private_postgres.stop()
    try:
        for response in (_register(client, key, "while-down"), client.get("/api/v1/procedures", headers=auth(key)),
                         client.get("/healthz")):
            assert response.status_code == 503, response.get_data(as_text=True)
            if response.mimetype == "application/problem+json":
                assert response.headers["Retry-After"].isdigit()
        problem = _register(client, key, "while-down")
        assert problem.mimetype == "application/problem+json"
        assert problem.get_json()["code"] == "service_unavailable"
        assert problem.get_json()["title_en"] and problem.get_json()["detail_vi"]
        assert int(problem.headers["Retry-After"]) == fault_app.config["DATABASE_RETRY_AFTER_S"]
        page = client.get("/api/v1/procedures", headers={**auth(key), "Accept": "text/html"})
        assert page.status_code == 503
    finally:
        private_postgres.start()
    assert _dossiers(fault_app) == 1  # nothing of the refused registration was written
    again = _register(client, key, "while-down")  # the agent's retry, same idempotency key
    assert again.status_code == 201, again.get_data(as_text=True)
    assert _dossiers(fault_app) == 2


def test_postgres_restarted_mid_load_never_a_500_and_every_registration_once(fault_app, private_postgres):
    import threading

    with fault_app.app_context():
        key = factories.org_key(factories.create_org())
    answers: list[tuple[str, int]] = []
    lock, stop = threading.Lock(), threading.Event()

    def agent(n: int) -> None:
        client = fault_app.test_client()
        i = 0
        while not stop.is_set() and i < 200:  # bounded: a few seconds of registrations per agent
            idem = f"load-{n}-{i}"
            status = _register(client, key, idem).status_code
            with lock:
                answers.append((idem, status))
            i += 1

    threads = [threading.Thread(target=agent, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    try:
        while len(answers) < 8:  # the load is on
            stop.wait(0.05)
        private_postgres.restart()
        seen = len(answers)
        while len(answers) < seen + 8:  # and goes on after the restart
            stop.wait(0.05)
    finally:
        stop.set()
        for thread in threads:
            thread.join(60)
    statuses = {status for _, status in answers}
    assert statuses <= {201, 503}, sorted(statuses)  # never a 500
    # The agents retry what was refused, with the same key: each registration exists exactly once.
    client = fault_app.test_client()
    for idem, status in answers:
        if status == 503:
            assert _register(client, key, idem).status_code in (200, 201)
    assert _dossiers(fault_app) == len({idem for idem, _ in answers})
