"""What the exception queue's and the reports' codes are called on the pages (English msgids, Vietnamese catalogue)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

KIND_LABELS = {
    "missing_at_gateway": _l("In the ledger, not at the gateway"),
    "missing_in_ledger": _l("At the gateway, not in the ledger"),
    "amount_mismatch": _l("Amounts differ"),
    "fee_mismatch": _l("Gateway fee differs"),
    "duplicate": _l("Duplicate"),
    "refund_without_payment": _l("Refund without its payment"),
    "payout_sum_mismatch": _l("Payout does not add up"),
    "payout_not_in_bank": _l("Payout missing from the bank statement"),
    "bank_unmatched": _l("Unexplained bank credit"),
    "cash_overdue": _l("Cash not handed over"),
}
ACTION_LABELS = {
    "detected": _l("Detected"),
    "assigned": _l("Assigned"),
    "adjusted": _l("Adjustment booked"),
    "linked": _l("Linked to a dossier"),
    "explained": _l("Marked as explained"),
    "cleared": _l("Cleared by the reconciliation"),
    "reopened": _l("Reopened"),
}
STATUS_LABELS = {"open": _l("Open"), "resolved": _l("Resolved")}
BUCKET_LABELS = {"0-1": _l("0–1 working days"), "2-5": _l("2–5 working days"), "6-10": _l("6–10 working days"),
                 "11+": _l("More than 10 working days")}
LEVEL_LABELS = {"province": _l("Province"), "district": _l("District"), "commune": _l("Commune")}


def label(labels: dict, key: str | None) -> str:
    if key is None:
        return "—"
    return str(labels[key]) if key in labels else key


def register(app) -> None:
    """The labels as template globals (called from the blueprints' record hook)."""
    app.jinja_env.globals.update(
        exception_kind_label=lambda k: label(KIND_LABELS, k),
        exception_action_label=lambda k: label(ACTION_LABELS, k),
        exception_status_label=lambda k: label(STATUS_LABELS, k),
        age_bucket_label=lambda k: label(BUCKET_LABELS, k),
        procedure_level_label=lambda k: label(LEVEL_LABELS, k) if k else str(_l("No procedure")),
    )
