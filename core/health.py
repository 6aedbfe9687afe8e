"""Liveness/readiness and the API docs' static assets."""

from __future__ import annotations

from pathlib import Path

import swagger_ui_bundle
from flask import Blueprint, jsonify, send_from_directory
from sqlalchemy import text

from core.auth import public
from core.extensions import db

bp = Blueprint("health", __name__)
SWAGGER_DIR = Path(swagger_ui_bundle.swagger_ui_path)


@bp.get("/healthz")
@public
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any database failure means not ready
        db.session.rollback()
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok")


@bp.get("/api/v1/docs/assets/<path:filename>")
@public
def docs_asset(filename: str):
    """Swagger UI from the swagger-ui-bundle package: no CDN."""
    return send_from_directory(SWAGGER_DIR, filename, max_age=86400)
