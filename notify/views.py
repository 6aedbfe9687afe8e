"""The development outbox, ``/dev/sms`` (a page) and ``/dev/sms.json``.

Registered only while ``SMS_PROVIDER`` is ``dev`` (``app.create_app``): with a real
provider these URLs do not exist. Admins only: the dev outbox is also the default of an
instance nobody configured, and its messages hold phone numbers and live tracking links;
``make run`` prints the demo admin's login (``flask demo logins``).
"""

from __future__ import annotations

from flask import Blueprint, jsonify, make_response, render_template

from core.auth import allow
from core.masking import mask_phone
from core.roles import Role
from core.timeutil import to_local
from notify import service

bp = Blueprint("notify_dev", __name__, template_folder="templates")


def _no_store(response):
    response = make_response(response)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


@bp.get("/dev/sms")
@allow(Role.ADMIN)
def dev_sms():
    return _no_store(render_template("notify/dev_sms.html", messages=service.dev_outbox(), to_local=to_local))


@bp.get("/dev/sms.json")
@allow(Role.ADMIN)
def dev_sms_json():
    messages = [{k: (v.isoformat() if hasattr(v, "isoformat") else mask_phone(v) if k == "phone" else v)
                 for k, v in row.items()} for row in service.dev_outbox()]
    return _no_store(jsonify(messages=messages))
