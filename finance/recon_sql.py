# ruff: noqa: S608 - every statement is composed from this module's constants; values are bound parameters
"""The gateway reconciliation's matching, set-based: one INSERT … SELECT per class of mismatch.

Our side is the ledger: a card payment is the ``payment`` transaction booked under its PaymentIntent
id, a card refund the ``refund`` transaction ``refund-<id>`` of a succeeded refund with its gateway
refund id. Their side is the staged balance transactions and payouts (finance.recon_fetch). Every
class writes what it finds into a temporary table ``recon_found``; then, in three statements, the
items not yet in the queue are inserted (by ``dedupe_key``, stable across runs), each new one gets
its ``detected`` action, and the open items of these classes that the run looked at and no longer
finds are resolved with a ``cleared`` action. Works on PostgreSQL (the bench: a million payments)
and on SQLite (the embedded default).

Period classes look at the window (our bookings, the gateway's transactions and payouts created in
it; the gateway's side of a comparison with a day's slack either way, for a charge booked on one
side of midnight and created on the other). State classes (a payout missing from the bank, a bank
line nothing explains) look at everything as it stands now.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import JSON, Date, DateTime, bindparam, text

from core.extensions import db
from finance.models import ExceptionKind

K = ExceptionKind
PERIOD_KINDS = (K.MISSING_AT_GATEWAY, K.MISSING_IN_LEDGER, K.AMOUNT_MISMATCH, K.FEE_MISMATCH, K.DUPLICATE,
                K.REFUND_WITHOUT_PAYMENT, K.PAYOUT_SUM_MISMATCH)
STATE_KINDS = (K.PAYOUT_NOT_IN_BANK, K.BANK_UNMATCHED)
KINDS = PERIOD_KINDS + STATE_KINDS
SLACK = timedelta(days=1)
# The dedupe keys these classes make: a run clears only its own items, not those another part of finance raises
# with the same kind (an agent's cash deposit short on the statement, ``cash_deposit:…``, is BANK_UNMATCHED too).
KEY_PREFIXES = ("gw-missing:", "ledger-missing:", "refund-orphan:", "amount:", "fee:", "dup:", "payout-sum:",
                "payout-bank:", "bank:")

CHARGE_TYPES = "('charge', 'payment')"

# Our card payments as booked in the ledger.
OURS_PAYMENTS = """
SELECT p.id AS payment_id, p.dossier_id, p.organisation_id, p.gateway_intent_id AS intent,
       p.amount_vnd AS amount, COALESCE(p.gateway_fee_vnd, 0) AS fee, lt.booked_at
FROM payments p
JOIN ledger_transactions lt ON lt.kind = 'payment' AND lt.reference = p.gateway_intent_id
WHERE p.method = 'card' AND lt.booked_at >= :start AND lt.booked_at < :end
"""

# Our card refunds as booked in the ledger.
OURS_REFUNDS = """
SELECT r.id AS refund_id, r.gateway_refund_id AS gref, r.amount_vnd AS amount, p.id AS payment_id,
       p.dossier_id, p.organisation_id, p.gateway_intent_id AS intent, lt.booked_at
FROM payment_refunds r
JOIN payments p ON p.id = r.payment_id
JOIN ledger_transactions lt ON lt.kind = 'refund' AND lt.reference = 'refund-' || CAST(r.id AS VARCHAR(20))
WHERE r.status = 'succeeded' AND p.method = 'card' AND r.gateway_refund_id IS NOT NULL
  AND lt.booked_at >= :start AND lt.booked_at < :end
"""

# The gateway's charges per PaymentIntent (the source itself when the gateway gave no intent).
GATEWAY_CHARGES = f"""
SELECT COALESCE(payment_intent, source) AS intent, COUNT(*) AS n, MIN(id) AS txn_id, MIN(created) AS created,
       MIN(amount) AS amount_min, MAX(amount) AS amount_max, MIN(fee) AS fee_min, MAX(fee) AS fee_max,
       SUM(amount) AS amount_sum
FROM finance_gateway_transactions
WHERE type IN {CHARGE_TYPES} AND created >= :gstart AND created < :gend
GROUP BY COALESCE(payment_intent, source)
"""

GATEWAY_REFUNDS = """
SELECT source AS gref, MIN(payment_intent) AS intent, COUNT(*) AS n, MIN(id) AS txn_id, MIN(created) AS created,
       MIN(-amount) AS amount_min, MAX(-amount) AS amount_max, SUM(-amount) AS amount_sum
FROM finance_gateway_transactions
WHERE type = 'refund' AND created >= :gstart AND created < :gend
GROUP BY source
"""

# Our payments of the window beside the gateway's charges of the window (with its slack), by intent, in one hash
# full join; only the pairs some payment class reports are kept (one side missing, more than one charge, an amount
# or a fee that differs): the matched ones, nearly all of them, are never written. Read by every payment class.
PAIRS = f"""
CREATE TEMPORARY TABLE recon_pairs AS
WITH o AS ({OURS_PAYMENTS}), g AS ({GATEWAY_CHARGES})
SELECT o.payment_id, o.dossier_id, o.organisation_id, COALESCE(o.intent, g.intent) AS intent, o.amount, o.fee,
       o.booked_at, g.n, g.txn_id, g.created AS g_created, g.amount_min, g.amount_max, g.fee_min, g.fee_max,
       g.amount_sum
FROM o FULL JOIN g ON g.intent = o.intent
WHERE o.intent IS NULL OR g.intent IS NULL OR g.n > 1 OR g.amount_min <> o.amount OR g.amount_max <> o.amount
   OR g.fee_min <> o.fee OR g.fee_max <> o.fee
"""

LEDGER_HAS_PAYMENT = "EXISTS (SELECT 1 FROM ledger_transactions lt WHERE lt.kind = 'payment' AND lt.reference = {})"
LEDGER_HAS_REFUND = """EXISTS (SELECT 1 FROM payment_refunds r JOIN ledger_transactions lt
    ON lt.kind = 'refund' AND lt.reference = 'refund-' || CAST(r.id AS VARCHAR(20))
    WHERE r.gateway_refund_id = {})"""

INTO = ("INSERT INTO recon_found (kind, dedupe_key, amount_vnd, occurred_at, ours, theirs, dossier_id, "
        "organisation_id)\n")

CLASSES: dict[ExceptionKind, str] = {
    K.MISSING_AT_GATEWAY: INTO + f"""
SELECT 'missing_at_gateway', 'gw-missing:' || o.intent, o.amount, o.booked_at,
       OBJ('payment_id', o.payment_id, 'intent', o.intent, 'amount_vnd', o.amount), OBJ(),
       o.dossier_id, o.organisation_id
FROM recon_pairs o
WHERE o.payment_id IS NOT NULL AND o.n IS NULL
UNION ALL
SELECT 'missing_at_gateway', 'gw-missing:' || o.gref, o.amount, o.booked_at,
       OBJ('refund_id', o.refund_id, 'gateway_refund_id', o.gref, 'payment_id', o.payment_id, 'intent', o.intent,
           'amount_vnd', o.amount), OBJ(),
       o.dossier_id, o.organisation_id
FROM ({OURS_REFUNDS}) o
WHERE NOT EXISTS (SELECT 1 FROM finance_gateway_transactions g WHERE g.source = o.gref AND g.type = 'refund')
""",
    K.MISSING_IN_LEDGER: INTO + f"""
SELECT 'missing_in_ledger', 'ledger-missing:' || g.txn_id, ABS(g.amount_max), g.g_created, OBJ(),
       OBJ('transaction', g.txn_id, 'type', 'charge', 'intent', g.intent, 'amount', g.amount_max,
           'fee', g.fee_max), CAST(NULL AS INTEGER), CAST(NULL AS INTEGER)
FROM recon_pairs g
WHERE g.payment_id IS NULL AND g.g_created >= :start AND g.g_created < :end
  AND NOT {LEDGER_HAS_PAYMENT.format("g.intent")}
UNION ALL
SELECT 'missing_in_ledger', 'ledger-missing:' || g.id, ABS(g.amount), g.created, OBJ(),
       OBJ('transaction', g.id, 'type', g.type, 'source', g.source, 'intent', g.payment_intent,
           'amount', g.amount, 'fee', g.fee), CAST(NULL AS INTEGER), CAST(NULL AS INTEGER)
FROM finance_gateway_transactions g
WHERE g.type = 'refund' AND g.created >= :start AND g.created < :end
  AND g.payment_intent IS NOT NULL AND NOT {LEDGER_HAS_REFUND.format("g.source")}
  AND ({LEDGER_HAS_PAYMENT.format("g.payment_intent")}
       OR EXISTS (SELECT 1 FROM finance_gateway_transactions c
                  WHERE c.type IN {CHARGE_TYPES} AND c.payment_intent = g.payment_intent))
""",
    K.REFUND_WITHOUT_PAYMENT: INTO + f"""
SELECT 'refund_without_payment', 'refund-orphan:' || g.id, ABS(g.amount), g.created, OBJ(),
       OBJ('transaction', g.id, 'source', g.source, 'intent', g.payment_intent, 'amount', g.amount),
       CAST(NULL AS INTEGER), CAST(NULL AS INTEGER)
FROM finance_gateway_transactions g
WHERE g.type = 'refund' AND g.created >= :start AND g.created < :end
  AND (g.payment_intent IS NULL OR NOT {LEDGER_HAS_PAYMENT.format("g.payment_intent")})
  AND NOT {LEDGER_HAS_REFUND.format("g.source")}
  AND NOT EXISTS (SELECT 1 FROM finance_gateway_transactions c
                  WHERE c.type IN {CHARGE_TYPES} AND c.payment_intent = g.payment_intent)
""",
    K.AMOUNT_MISMATCH: INTO + f"""
SELECT 'amount_mismatch', 'amount:' || o.intent,
       ABS((CASE WHEN o.amount_max <> o.amount THEN o.amount_max ELSE o.amount_min END) - o.amount), o.booked_at,
       OBJ('payment_id', o.payment_id, 'intent', o.intent, 'amount_vnd', o.amount),
       OBJ('transaction', o.txn_id, 'amount', o.amount_max), o.dossier_id, o.organisation_id
FROM recon_pairs o
WHERE o.payment_id IS NOT NULL AND o.n IS NOT NULL AND (o.amount_min <> o.amount OR o.amount_max <> o.amount)
UNION ALL
SELECT 'amount_mismatch', 'amount:' || o.gref,
       ABS((CASE WHEN g.amount_max <> o.amount THEN g.amount_max ELSE g.amount_min END) - o.amount), o.booked_at,
       OBJ('refund_id', o.refund_id, 'gateway_refund_id', o.gref, 'amount_vnd', o.amount),
       OBJ('transaction', g.txn_id, 'amount', -g.amount_max), o.dossier_id, o.organisation_id
FROM ({OURS_REFUNDS}) o JOIN ({GATEWAY_REFUNDS}) g ON g.gref = o.gref
WHERE g.amount_min <> o.amount OR g.amount_max <> o.amount
""",
    K.FEE_MISMATCH: INTO + """
SELECT 'fee_mismatch', 'fee:' || o.intent,
       ABS((CASE WHEN o.fee_max <> o.fee THEN o.fee_max ELSE o.fee_min END) - o.fee), o.booked_at,
       OBJ('payment_id', o.payment_id, 'intent', o.intent, 'fee_vnd', o.fee),
       OBJ('transaction', o.txn_id, 'fee', o.fee_max), o.dossier_id, o.organisation_id
FROM recon_pairs o
WHERE o.payment_id IS NOT NULL AND o.n IS NOT NULL AND (o.fee_min <> o.fee OR o.fee_max <> o.fee)
""",
    K.DUPLICATE: INTO + f"""
SELECT 'duplicate', 'dup:' || g.intent, g.amount_sum - g.amount_min, g.g_created, OBJ(),
       OBJ('intent', g.intent, 'transactions', g.n, 'first', g.txn_id), g.dossier_id, g.organisation_id
FROM recon_pairs g
WHERE g.n > 1 AND g.g_created >= :start AND g.g_created < :end
UNION ALL
SELECT 'duplicate', 'dup:' || g.gref, g.amount_sum - g.amount_min, g.created, OBJ(),
       OBJ('refund', g.gref, 'transactions', g.n, 'first', g.txn_id), CAST(NULL AS INTEGER), CAST(NULL AS INTEGER)
FROM ({GATEWAY_REFUNDS}) g
WHERE g.n > 1 AND g.created >= :start AND g.created < :end
""",
    K.PAYOUT_SUM_MISMATCH: INTO + """
SELECT 'payout_sum_mismatch', 'payout-sum:' || po.id, ABS(po.amount - COALESCE(s.total, 0)), po.created,
       OBJ(), OBJ('payout', po.id, 'amount', po.amount, 'transactions_net', COALESCE(s.total, 0),
                  'transactions', COALESCE(s.n, 0)), CAST(NULL AS INTEGER), CAST(NULL AS INTEGER)
FROM finance_gateway_payouts po
LEFT JOIN (SELECT payout_id, SUM(net) AS total, COUNT(*) AS n FROM finance_gateway_transactions
           WHERE payout_id IS NOT NULL AND type <> 'payout' GROUP BY payout_id) s ON s.payout_id = po.id
WHERE po.created >= :start AND po.created < :end AND po.amount <> COALESCE(s.total, 0)
""",
    K.PAYOUT_NOT_IN_BANK: INTO + """
SELECT 'payout_not_in_bank', 'payout-bank:' || po.id, po.amount, po.created, OBJ(),
       OBJ('payout', po.id, 'amount', po.amount, 'arrival_date', CAST(po.arrival_date AS VARCHAR(10))),
       CAST(NULL AS INTEGER), CAST(NULL AS INTEGER)
FROM finance_gateway_payouts po
WHERE po.status = 'paid' AND po.bank_line_id IS NULL AND po.arrival_date <= :bank_cutoff
""",
    K.BANK_UNMATCHED: INTO + """
SELECT 'bank_unmatched', 'bank:' || l.bank_reference, l.amount_vnd, l.booked_at, OBJ(),
       OBJ('bank_line_id', l.id, 'bank_reference', l.bank_reference, 'amount_vnd', l.amount_vnd,
           'description', l.description), CAST(NULL AS INTEGER), CAST(NULL AS INTEGER)
FROM bank_statement_lines l
WHERE l.outcome = 'unmatched' AND l.amount_vnd > 0
""",
}


def _sql(statement: str) -> str:
    postgres = db.session.get_bind().dialect.name == "postgresql"
    return statement.replace("OBJ(", "json_build_object(" if postgres else "json_object(")


def execute(statement: str, **params):
    """A text statement with its datetimes, dates and JSON bound by their SQLAlchemy types (portable)."""
    clause = text(_sql(statement))
    binds = []
    for name, value in params.items():
        if isinstance(value, datetime):
            binds.append(bindparam(name, value, type_=DateTime(timezone=True)))
        elif isinstance(value, date):
            binds.append(bindparam(name, value, type_=Date()))
        elif isinstance(value, dict):
            binds.append(bindparam(name, value, type_=JSON()))
        else:
            binds.append(bindparam(name, value))
    return db.session.execute(clause.bindparams(*binds))


def _create_found_table() -> None:
    postgres = db.session.get_bind().dialect.name == "postgresql"
    execute("DROP TABLE IF EXISTS recon_found")
    execute("DROP TABLE IF EXISTS recon_pairs")
    execute(f"""CREATE TEMPORARY TABLE recon_found (kind VARCHAR(32), dedupe_key VARCHAR(200), amount_vnd BIGINT,
        occurred_at {"TIMESTAMP WITH TIME ZONE" if postgres else "DATETIME"}, ours {"JSON" if postgres else "TEXT"},
        theirs {"JSON" if postgres else "TEXT"}, dossier_id INTEGER, organisation_id INTEGER)""")


def match(start: datetime, end: datetime, *, now: datetime, bank_cutoff: date, actor: str,
          step=None) -> dict:
    """Find every mismatch of the window [start, end) (and the state classes as they stand at ``now``),
    put the new ones in the queue and clear the ones no longer found. Returns the counts per class."""
    tick = step or (lambda name: None)
    if db.session.get_bind().dialect.name == "postgresql":
        # For this transaction only: the joins' row estimates are far off (derived tables), and JIT would compile
        # for seconds; hashing a million rows wants more than the default 4 MB before it spills to disk.
        execute("SET LOCAL jit = off")
        execute("SET LOCAL work_mem = '64MB'")
    _create_found_table()
    params = {"start": start, "end": end, "gstart": start - SLACK, "gend": end + SLACK, "bank_cutoff": bank_cutoff}
    execute(PAIRS, start=start, end=end, gstart=params["gstart"], gend=params["gend"])
    if db.session.get_bind().dialect.name == "postgresql":
        execute("ANALYZE recon_pairs")
    tick("pairs")
    for kind, statement in CLASSES.items():
        used = {name: value for name, value in params.items() if f":{name}" in statement}
        execute(statement, **used)
        tick(kind.value)
    found = {kind: int(n) for kind, n in execute("SELECT kind, COUNT(*) FROM recon_found GROUP BY kind")}
    execute("""
INSERT INTO finance_exceptions (kind, dedupe_key, amount_vnd, occurred_at, detected_at, ours, theirs, dossier_id,
                                organisation_id, agent_point_id, status)
SELECT f.kind, f.dedupe_key, f.amount_vnd, f.occurred_at, :now, f.ours, f.theirs, f.dossier_id,
       f.organisation_id, d.agent_point_id, 'open'
FROM recon_found f LEFT JOIN dossiers d ON d.id = f.dossier_id
WHERE NOT EXISTS (SELECT 1 FROM finance_exceptions e WHERE e.dedupe_key = f.dedupe_key)""", now=now)
    execute("""
INSERT INTO finance_exception_actions (exception_id, action, reason, details, actor, at)
SELECT e.id, 'detected', NULL, :details, :actor, :now FROM finance_exceptions e
WHERE e.detected_at = :now AND NOT EXISTS (SELECT 1 FROM finance_exception_actions a WHERE a.exception_id = e.id)
""", details={}, actor=actor, now=now)
    new = {kind: int(n) for kind, n in execute(
        "SELECT kind, COUNT(*) FROM finance_exceptions WHERE detected_at = :now GROUP BY kind", now=now)}
    tick("queue")
    period = ", ".join(f"'{k.value}'" for k in PERIOD_KINDS)
    state = ", ".join(f"'{k.value}'" for k in STATE_KINDS)
    owned = " OR ".join(f"dedupe_key LIKE '{prefix}%'" for prefix in KEY_PREFIXES)
    cleared = [row[0] for row in execute(f"""
UPDATE finance_exceptions SET status = 'resolved', resolved_at = :now
WHERE status = 'open'
  AND ((kind IN ({period}) AND occurred_at >= :start AND occurred_at < :end) OR kind IN ({state}))
  AND ({owned})
  AND NOT EXISTS (SELECT 1 FROM recon_found f WHERE f.dedupe_key = finance_exceptions.dedupe_key)
RETURNING id""", now=now, start=start, end=end)]
    if cleared:
        db.session.execute(text("""INSERT INTO finance_exception_actions (exception_id, action, reason, details,
            actor, at) VALUES (:id, 'cleared', :reason, :details, :actor, :now)""").bindparams(
            bindparam("details", type_=JSON()), bindparam("now", type_=DateTime(timezone=True))),
            [{"id": item, "reason": "matched by the reconciliation run", "details": {}, "actor": actor, "now": now}
             for item in cleared])
    execute("DROP TABLE IF EXISTS recon_found")
    execute("DROP TABLE IF EXISTS recon_pairs")
    tick("cleared")
    return {"found": {k.value: found.get(k.value, 0) for k in KINDS},
            "new": {k.value: new.get(k.value, 0) for k in KINDS}, "cleared": len(cleared)}
