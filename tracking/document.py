"""The tracking page as JSON for apps: ``GET /t/<token>.json``.

The same data as the page, masked the same way. Stable shape, version 1 (fields are only
ever added; a change that is not an addition gets a new ``schema``)::

    {
      "schema": "tracking/v1",
      "language": "vi" | "en",                      # of the labels (?lang=en)
      "dossier": {
        "number": str,
        "procedure": {"code": str, "name": str},
        "status": {"code": str, "label": str},      # received|routed|accepted|processing|
                                                    # supplement_requested|result_ready|out_for_delivery|
                                                    # delivered|collected|closed|rejected|cancelled
        "citizen": {"name": "Nguyễn V. A.", "phone": "091****678"},
        "received_at": time, "deadline_at": time, "closed_at": time | null,
        "timeliness": {"code": "on_time" | "late" | null,   # null: refused or cancelled
                       "final": bool,                        # true once the result was ready
                       "label": str | null},
        "delivery_method": {"code": "courier" | "collect", "label": str}
      },
      "timeline": [{"code": str, "label": str,               # a dossier status, in order
                    "state": "done" | "current" | "ahead",
                    "at": time | null,                       # when reached (done, current)
                    "expected_at": time | null}],            # ahead: the deadline, the courier's estimate
      "service_point": {"code": str, "name": str, "address": str,
                        "opening_hours": str,                # OpenStreetMap syntax: "Mo-Fr 08:00-17:00; PH off"
                        "lat": float, "lon": float,
                        "opening_hours_text": str},          # the same in words, in the language asked for
      "payment": null | {"status": {"code": str, "label": str}, "method": {"code": str, "label": str},
                         "amount_vnd": int, "refunded_vnd": int,
                         "receipts": [{"kind": "payment" | "refund", "label": str, "url": str,
                                       "document": {"code": "fee_receipt" | "service_invoice" | "combined",
                                                    "label": str}}]},
      "delivery": null | {                                   # the courier's shipment, when there is one
        "status": {"code": str, "label": str},               # pending|picked_up|in_transit|out_for_delivery|
                                                             # delivery_failed|returned_to_branch|delivered
        "carrier": str | null, "tracking_number": str | null,
        "pickup_at": time | null, "estimated_delivery": time | null,
        "attempts": [{"at": time, "outcome": {"code": "failed" | "delivered", "label": str},
                      "reason": str | null}],
        "max_attempts": int | null,
        "proof": null | {"recipient_name": str (masked), "delivered_at": time,
                         "signature_ref": str | null, "photo_ref": str | null},
        "can_reschedule": bool,
        "slots": [{"start": time, "end": time}]              # offered when can_reschedule
      },
      "feedback": {"open": bool, "given": bool, "rating": int | null}
    }

``time`` is ISO 8601 in Vietnam's time with its offset (``2025-03-12T17:00:00+07:00``);
amounts are whole đồng. An unknown or expired token is a 404 with a fixed body.
"""

from __future__ import annotations

from datetime import datetime

from core.timeutil import to_local
from dossiers.labels import status_label
from payments.labels import document_label, method_label, payment_label
from tracking import labels

SCHEMA = "tracking/v1"


def _time(value: datetime | None) -> str | None:
    return None if value is None else to_local(value).isoformat(timespec="seconds")


def procedure_name(page: dict, lang: str) -> str:
    procedure = page["procedure"]
    return (procedure["name_en"] or procedure["name"]) if lang == "en" else procedure["name"]


def to_document(page: dict, lang: str) -> dict:
    timeliness = page["timeliness"]
    payment, delivery, point = page["payment"], page["delivery"], page["service_point"]
    return {
        "schema": SCHEMA,
        "language": lang,
        "dossier": {
            "number": page["number"],
            "procedure": {"code": page["procedure"]["code"], "name": procedure_name(page, lang)},
            "status": {"code": page["status"], "label": status_label(page["status"])},
            "citizen": dict(page["citizen"]),
            "received_at": _time(page["received_at"]),
            "deadline_at": _time(page["deadline_at"]),
            "closed_at": _time(page["closed_at"]),
            "timeliness": {"code": timeliness["code"], "final": timeliness["final"],
                           "label": labels.timeliness_label(timeliness["code"], timeliness["final"])},
            "delivery_method": {"code": page["delivery_method"],
                                "label": labels.delivery_method_label(page["delivery_method"])},
        },
        "timeline": [{"code": step["code"], "label": status_label(step["code"]), "state": step["state"],
                      "at": _time(step["at"]), "expected_at": _time(step["expected_at"])}
                     for step in page["timeline"]],
        "service_point": {**point, "opening_hours_text": labels.opening_hours_text(point["opening_hours"], lang)},
        "payment": None if payment is None else {
            "status": {"code": payment["status"], "label": payment_label(payment["status"])},
            "method": {"code": payment["method"], "label": method_label(payment["method"])},
            "amount_vnd": payment["amount_vnd"], "refunded_vnd": payment["refunded_vnd"],
            "receipts": [{"kind": r["kind"], "label": r["label"], "url": r["url"],
                          "document": {"code": r["document"], "label": document_label(r["document"], r["kind"])}}
                         for r in payment["receipts"]],
        },
        "delivery": None if delivery is None else {
            "status": {"code": delivery["status"],
                       "label": labels.courier_status_label(delivery["status"], delivery["status_label"])},
            "carrier": delivery["carrier"], "tracking_number": delivery["tracking_number"],
            "pickup_at": _time(delivery["pickup_at"]), "estimated_delivery": _time(delivery["estimated_delivery"]),
            "attempts": [{"at": _time(a["at"]),
                          "outcome": {"code": a["outcome"], "label": labels.attempt_outcome_label(a["outcome"])},
                          "reason": a["reason"]} for a in delivery["attempts"]],
            "max_attempts": delivery["max_attempts"],
            "proof": None if delivery["proof"] is None else {
                **delivery["proof"], "delivered_at": _time(delivery["proof"]["delivered_at"])},
            "can_reschedule": delivery["can_reschedule"],
            "slots": [{"start": _time(s["start"]), "end": _time(s["end"])} for s in delivery["slots"]],
        },
        "feedback": dict(page["feedback"]),
    }
