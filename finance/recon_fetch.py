"""Fetching the gateway's balance transactions and payouts for a period into the staging tables.

Stripe's model: ``GET /v1/balance_transactions`` (``created[gte]``/``[lte]``, paginated with
``starting_after``) lists every movement of the balance; ``GET /v1/payouts`` lists the payouts, and
``GET /v1/balance_transactions?payout=po_…`` the transactions one payout paid out. A balance
transaction's ``source`` is the charge (``ch_``), refund (``re_``) or payout (``po_``), not the
PaymentIntent our ledger references, so the lists are fetched with ``expand[]=data.source`` and the
source's ``payment_intent`` is kept next to it. Rows are upserted by the gateway's id.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime

from sqlalchemy.dialects import postgresql, sqlite

from core.extensions import db
from core.timeutil import utcnow
from finance.recon_models import GatewayPayout, GatewayTransaction
from payments.gateway import GatewayClient

PAGE = 100
EXPAND = ["data.source"]

Progress = Callable[[int], None]  # called with how many objects were just fetched


def _ts(moment: datetime) -> int:
    return int(moment.timestamp())


def _at(ts: int | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(int(ts), UTC)


def _local_date(ts: int) -> date:
    from core.timeutil import to_local

    return to_local(_at(ts)).date()


def transaction_row(txn: dict, payout_id: str | None = None) -> dict:
    """A balance transaction as a staging row; its source's id and PaymentIntent."""
    source = txn.get("source")
    intent = None
    if isinstance(source, dict):
        intent = source.get("payment_intent")
        if isinstance(intent, dict):
            intent = intent.get("id")
        source = source.get("id")
    elif isinstance(source, str) and source.startswith("pi_"):
        intent = source
    return {"id": txn["id"], "type": str(txn.get("type") or "unknown")[:40], "source": source,
            "payment_intent": intent, "amount": int(txn.get("amount") or 0), "fee": int(txn.get("fee") or 0),
            "net": int(txn.get("net") or 0), "currency": str(txn.get("currency") or "vnd")[:3],
            "created": _at(txn.get("created")), "payout_id": payout_id,
            "reporting_category": txn.get("reporting_category"), "fetched_at": utcnow()}


def payout_row(payout: dict) -> dict:
    return {"id": payout["id"], "amount": int(payout.get("amount") or 0),
            "currency": str(payout.get("currency") or "vnd")[:3],
            "arrival_date": _local_date(int(payout.get("arrival_date") or payout.get("created") or 0)),
            "status": str(payout.get("status") or "unknown")[:20], "created": _at(payout.get("created")),
            "fetched_at": utcnow()}


def _upsert(model, rows: list[dict], keep: Iterable[str] = ()) -> None:
    """Insert or update by id; ``keep`` columns are not overwritten with NULL by a later fetch."""
    if not rows:
        return
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(model).values(rows)
    excluded = statement.excluded
    updates = {name: excluded[name] for name in rows[0] if name != "id"}
    for name in keep:
        updates[name] = db.func.coalesce(excluded[name], getattr(model, name))
    db.session.execute(statement.on_conflict_do_update(index_elements=["id"], set_=updates))


def _created(start: datetime, end: datetime) -> dict:
    return {"gte": _ts(start), "lte": _ts(end)}


def _in_window(obj: dict, start: datetime, end: datetime) -> bool:
    return _ts(start) <= int(obj.get("created") or 0) <= _ts(end)


def fetch(client: GatewayClient, start: datetime, end: datetime, *, server_filters: bool = True,
          payouts: bool = True, progress: Progress | None = None) -> dict:
    """Stage the balance transactions created in [start, end], the payouts created then and, per payout,
    the transactions it contains (whenever they were created). Returns what was fetched.

    ``server_filters=False`` lists everything and keeps the window client-side, for peers that
    refuse Stripe's ``created`` filter (localstripe); ``payouts=False`` for peers without payouts.
    """
    tick = progress or (lambda n: None)
    counts = {"transactions": 0, "payouts": 0, "payout_transactions": 0}
    params = {"created": _created(start, end)} if server_filters else {}

    def stream(items: Iterable[dict], payout_id: str | None, key: str) -> None:
        batch: list[dict] = []
        for txn in items:
            if not server_filters and payout_id is None and not _in_window(txn, start, end):
                continue
            batch.append(transaction_row(txn, payout_id))
            if len(batch) >= PAGE:
                _upsert(GatewayTransaction, batch, keep=("payout_id", "payment_intent"))
                counts[key] += len(batch)
                tick(len(batch))
                batch = []
        _upsert(GatewayTransaction, batch, keep=("payout_id", "payment_intent"))
        counts[key] += len(batch)
        tick(len(batch))

    stream(client.paginate("/balance_transactions", {**params, "expand": EXPAND}, PAGE), None, "transactions")
    if payouts:
        found = [p for p in client.paginate("/payouts", params, PAGE)
                 if server_filters or _in_window(p, start, end)]
        _upsert(GatewayPayout, [payout_row(p) for p in found])
        counts["payouts"] = len(found)
        tick(len(found))
        for payout in found:
            stream(client.paginate("/balance_transactions", {"payout": payout["id"], "expand": EXPAND}, PAGE),
                   payout["id"], "payout_transactions")
    db.session.flush()
    return counts
