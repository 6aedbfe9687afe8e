"""The application factory: the composition root that wires every package into one Flask app."""

from __future__ import annotations

import logging
import os

from flask import Flask

from core.config import INSTANCE_DIR, PROJECT_ROOT, engine_options, load_config, normalise_database_url
from core.extensions import api, db, migrate


def create_app(overrides: dict | None = None) -> Flask:
    app = Flask(__name__, instance_path=str(INSTANCE_DIR), instance_relative_config=False,
                static_folder=str(PROJECT_ROOT / "core" / "static"))  # rq-dashboard's pages use url_for("static")
    app.config.update(load_config())
    if overrides:
        app.config.update(overrides)
    url = normalise_database_url(app.config["SQLALCHEMY_DATABASE_URI"])
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", engine_options(url))
    os.makedirs(app.instance_path, exist_ok=True)
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"))

    # Models must be imported before Alembic or create_all look at the metadata.
    import backoffice.models  # noqa: F401
    import core.models  # noqa: F401
    import core.outbox  # noqa: F401
    import core.versions  # noqa: F401
    import courier.models  # noqa: F401
    import dossiers.models  # noqa: F401
    import geo.models  # noqa: F401
    import notify.models  # noqa: F401
    import payments.models  # noqa: F401
    import payments.sandbox.models  # noqa: F401
    import tracking.models  # noqa: F401

    app.json.sort_keys = False  # keep the schemas' field order; sorting costs time on every response
    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"),
                     render_as_batch=True)
    api.init_app(app, spec_kwargs={"components": {"securitySchemes": {
        "bearerAuth": {"type": "http", "scheme": "bearer",
                       "description": "Organisation or personal API key: Bearer hpa_…"}
    }}, "security": [{"bearerAuth": []}]})

    from agent_portal.receipt_views import bp as receipts_bp
    from agent_portal.views import bp as portal_bp
    from app.cli import register_cli
    from backoffice.views import bp as backoffice_bp
    from core.auth import init_auth
    from core.errors import register_error_handlers
    from core.health import bp as health_bp
    from core.views import bp as web_bp
    from core.web import csrf, init_web
    from courier.api import blp as courier_blp
    from dossiers.api import blp as dossiers_blp
    from dossiers.api_catalogue import blp as procedures_blp
    from dossiers.labels import status_label
    from geo.api import blp as geo_blp
    from geo.api_admin import blp as points_admin_blp
    from geo.api_coverage import blp as coverage_blp
    from geo.api_geocode import blp as geocode_blp
    from geo.views import bp as coverage_page_bp
    from notify.api import blp as notify_blp
    from notify.views import bp as notify_dev_bp
    from payments.api import blp as payments_blp
    from payments.finance_views import bp as finance_payments_bp
    from payments.labels import method_label, payment_label
    from payments.sandbox.app import bp as sandbox_gateway_bp
    from payments.views import bp as payments_pages_bp
    from tracking.views import bp as tracking_bp

    init_web(app)
    from core.masking import mask_phone

    # One phone mask on every page (core.masking); the older per-page variants map to it.
    app.jinja_env.filters.update(mask_phone=mask_phone, mask_phone_local=mask_phone)
    app.jinja_env.globals.update(status_label=status_label, payment_label=payment_label, method_label=method_label)
    for blueprint in (procedures_blp, geo_blp, geocode_blp, coverage_blp, points_admin_blp, dossiers_blp,
                      payments_blp, notify_blp, courier_blp):
        api.register_blueprint(blueprint)
        csrf.exempt(blueprint)  # bearer keys carry no cookie; session calls are checked in core.auth
    for blueprint in (health_bp, coverage_page_bp, web_bp, portal_bp, receipts_bp, tracking_bp, payments_pages_bp,
                      finance_payments_bp, backoffice_bp):
        app.register_blueprint(blueprint)
    app.register_blueprint(sandbox_gateway_bp)
    csrf.exempt(sandbox_gateway_bp)  # a server-to-server API authenticated by its own secret key
    if app.config["SMS_PROVIDER"] == "dev":  # /dev/sms exists only while the dev outbox is the provider
        app.register_blueprint(notify_dev_bp)
    init_auth(app)
    import courier.jobs  # noqa: F401 - registers the outbox handlers
    import notify.jobs  # noqa: F401 - registers the outbox handlers
    import payments.jobs  # noqa: F401 - registers the outbox handlers
    from core.outbox import init_outbox

    init_outbox(app)
    register_error_handlers(app)  # after Api: ours replace flask-smorest's handlers
    register_cli(app)
    return app
