"""Managing the service-point network: administrators only.

Every change takes effect on the next request in every worker (the network's reference
version is bumped in the same transaction; see ``geo.admin``).
"""

from __future__ import annotations

from flask import Response

from core.api import Blueprint
from core.auth import allow, current_principal
from core.roles import Role
from core.timeutil import to_local, utcnow
from geo import admin
from geo.admin_schemas import (
    ClosePointSchema,
    ImportFileSchema,
    ImportReportSchema,
    ServicePointCreateSchema,
    ServicePointUpdateSchema,
)
from geo.schemas import ServicePointSchema

blp = Blueprint("service_points_admin", __name__, url_prefix="/api/v1/admin/service-points",
                description="Managing the service-point network (administrators)")


def _actor() -> str:
    return current_principal().label


@blp.route("", methods=["POST"])
@allow(Role.ADMIN)
@blp.arguments(ServicePointCreateSchema())
@blp.response(201, ServicePointSchema())
def create_point(data):
    """Open a new service point; hours, levels and capacity default to the tier's"""
    return admin.create_point(data, actor=_actor())


@blp.route("/<code>", methods=["PATCH"])
@allow(Role.ADMIN)
@blp.arguments(ServicePointUpdateSchema())
@blp.response(200, ServicePointSchema())
def update_point(data, code):
    """Change a point (moving it is changing lat/lon); fields left out keep their value"""
    return admin.update_point(code, data, actor=_actor())


@blp.route("/<code>/close", methods=["POST"])
@allow(Role.ADMIN)
@blp.arguments(ClosePointSchema())
@blp.response(200, ServicePointSchema())
def close_point(data, code):
    """Close a point from a day (default today): active_to becomes the day before"""
    return admin.close_point(code, data["on"], data["reason"], actor=_actor())


@blp.route("/<code>/reopen", methods=["POST"])
@allow(Role.ADMIN)
@blp.response(200, ServicePointSchema())
def reopen_point(code):
    """Reopen a closed point, with no end date"""
    return admin.reopen_point(code, actor=_actor())


@blp.route("/export.csv", methods=["GET"])
@allow(Role.ADMIN)
@blp.response(200, {"type": "string"}, content_type="text/csv",
              description="UTF-8 with a byte-order mark (for Excel); the import format, every column")
def export_points():
    """The whole network as CSV, ready to edit and import back"""
    day = to_local(utcnow()).date()
    return Response(
        "\ufeff" + admin.export_points_csv(), mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="service-points-{day:%Y%m%d}.csv"'},
    )


@blp.route("/import", methods=["POST"])
@allow(Role.ADMIN)
@blp.arguments(ImportFileSchema(), location="files")
@blp.response(200, ImportReportSchema())
def import_points(files):
    """Create or update points from a CSV file; rejected rows are listed, the others kept"""
    return admin.import_points(files["file"].read(), actor=_actor())
