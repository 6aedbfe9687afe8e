"""The API key's own rotation: ``POST /api/v1/keys/rotate`` with the key to replace as the bearer.

The answer holds the new key (shown this once); the old one keeps working until ``old_expires_at``
(``overlap_hours``, default ``API_KEY_ROTATION_OVERLAP_H``), then stops by itself.
"""

from __future__ import annotations

from datetime import timedelta

from marshmallow import Schema, fields, validate

from core import accounts
from core.api import Blueprint
from core.auth import EVERYONE, allow, current_principal
from core.errors import Conflict
from core.messages import Text
from core.schemas import UtcDateTime
from core.settings import settings

blp = Blueprint("keys", __name__, url_prefix="/api/v1/keys", description="API keys: rotation")


class RotateSchema(Schema):
    overlap_hours = fields.Float(validate=validate.Range(min=0, max=accounts.MAX_ROTATION_OVERLAP.days * 24),
                                 metadata={"description": "How long the old key keeps working (hours)."})


class RotatedSchema(Schema):
    key = fields.String(metadata={"description": "The new key: shown this once, store it now."})
    prefix = fields.String()
    owner = fields.String()
    old_prefix = fields.String()
    old_expires_at = UtcDateTime(metadata={"description": "The old key stops working at this time."})


@blp.route("/rotate", methods=["POST"])
@allow(*EVERYONE)
@blp.arguments(RotateSchema(), required=False)
@blp.response(201, RotatedSchema())
def rotate(args):
    """Replace the calling API key with a new one; the old key keeps working during the overlap"""
    principal = current_principal()
    if not principal.api_key_id:
        raise Conflict(Text("Phiên đăng nhập không có khóa API để thay: gọi bằng khóa cần thay.",
                            "A signed-in session has no API key to rotate: call with the key to replace."))
    hours = (args or {}).get("overlap_hours", settings().api_key_rotation_overlap_h)
    rotated = accounts.rotate_key(key_id=principal.api_key_id, overlap=timedelta(hours=float(hours)))
    return {"key": rotated.new.key, "prefix": rotated.new.prefix, "owner": rotated.new.owner,
            "old_prefix": rotated.old_prefix, "old_expires_at": rotated.old_expires_at}
