"""The application factory: the composition root that wires every package into one Flask app."""

from __future__ import annotations

import logging
import os

from flask import Flask, current_app

import sandboxes
from core.api import ErrorResponsesPlugin, init_api_docs, init_input_guards
from core.config import check_production_secrets, engine_options
from core.extensions import api, db, migrate
from core.settings import PROJECT_ROOT, Settings, load_config, normalise_database_url

log = logging.getLogger(__name__)


@migrate.configure
def _version_locations(config):
    """The platform's migrations, and the branches of the mounted dev sandboxes (sandboxes/)."""
    locations = [str(PROJECT_ROOT / "migrations" / "versions"), *sandboxes.migration_locations(current_app)]
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", os.pathsep.join(locations))
    return config


def _upgrade_every_head_by_default() -> None:
    """``flask db upgrade`` (README, ``make run``) applies every head: the platform's chain and the mounted
    sandboxes' branches (Alembic's own default, ``head``, refuses when there are several)."""
    from flask_migrate.cli import upgrade as upgrade_command

    for param in upgrade_command.params:
        if param.name == "revision":
            param.default = "heads"


_upgrade_every_head_by_default()


def create_app(overrides: dict | None = None) -> Flask:
    config = load_config()
    overrides = dict(overrides or {})
    if "SQLALCHEMY_DATABASE_URI" in overrides:  # one database URL, whichever name the caller used
        overrides.setdefault("DATABASE_URL", overrides["SQLALCHEMY_DATABASE_URI"])
    config.update(overrides)
    config["SQLALCHEMY_DATABASE_URI"] = config["DATABASE_URL"] = normalise_database_url(config["DATABASE_URL"])
    app = Flask(__name__, instance_path=config["INSTANCE_DIR"], instance_relative_config=False,
                static_folder=str(PROJECT_ROOT / "core" / "static"))  # rq-dashboard's pages use url_for("static")
    app.config.update(config)
    check_production_secrets(app.config)  # APP_ENV=production: no built-in development secret
    sandboxes.check(app.config)  # and a sandbox never starts with a production configuration
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", engine_options(config["DATABASE_URL"],
                                                                     pre_ping=config["DATABASE_PRE_PING"]))
    app.extensions["settings"] = Settings(app.config)
    os.makedirs(app.instance_path, exist_ok=True)
    logging.basicConfig(level=config["LOG_LEVEL"])
    # fpdf2 subsets the fonts of every PDF (receipts, forms, statements) through fontTools, which logs each
    # table it prunes at INFO: dozens of lines a document.
    logging.getLogger("fontTools").setLevel(max(logging.WARNING, logging.getLogger().getEffectiveLevel()))

    # Models must be imported before Alembic or create_all look at the metadata.
    import backoffice.models  # noqa: F401
    import core.models  # noqa: F401
    import core.outbox  # noqa: F401
    import core.versions  # noqa: F401
    import courier.models  # noqa: F401
    import dossiers.models  # noqa: F401
    import finance.models  # noqa: F401
    import finance.recon_models  # noqa: F401
    import finance.statement_models  # noqa: F401
    import geo.models  # noqa: F401
    import notify.models  # noqa: F401
    import payments.models  # noqa: F401
    import tracking.models  # noqa: F401

    app.json.sort_keys = False  # keep the schemas' field order; sorting costs time on every response
    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"),
                     render_as_batch=True)
    api.init_app(app, spec_kwargs={"extra_plugins": [ErrorResponsesPlugin()], "components": {"securitySchemes": {
        "bearerAuth": {"type": "http", "scheme": "bearer",
                       "description": "Organisation or personal API key: Bearer hpa_…"}
    }}, "security": [{"bearerAuth": []}]})
    init_api_docs(api)
    init_input_guards(app)

    from agent_portal.receipt_views import bp as receipts_bp
    from agent_portal.views import bp as portal_bp
    from app.cli import register_cli
    from backoffice.forms_views import bp as branch_forms_bp
    from backoffice.monitoring_api import blp as alerts_blp
    from backoffice.monitoring_views import bp as monitoring_bp
    from backoffice.views import bp as backoffice_bp
    from backoffice.workspace_views import bp as branch_workspace_bp
    from core.api_keys import blp as keys_blp
    from core.auth import init_auth
    from core.errors import register_error_handlers
    from core.health import bp as health_bp
    from core.security import init_security
    from core.views import bp as web_bp
    from core.web import csrf, init_web
    from courier.api import blp as courier_blp
    from dossiers.api import blp as dossiers_blp
    from dossiers.api_catalogue import blp as procedures_blp
    from dossiers.labels import status_label
    from finance.cash_api import blp as finance_cash_blp
    from finance.cash_views import bp as finance_cash_bp
    from finance.queue_api import blp as finance_exceptions_blp
    from finance.queue_views import bp as finance_queue_bp
    from finance.recon_api import blp as finance_recon_blp
    from finance.recon_views import bp as finance_recon_bp
    from finance.reports_api import blp as finance_reports_blp
    from finance.reports_views import bp as finance_reports_bp
    from finance.statement_api import blp as finance_statements_blp
    from finance.statement_views import bp as finance_statements_bp
    from geo.api import blp as geo_blp
    from geo.api_admin import blp as points_admin_blp
    from geo.api_coverage import blp as coverage_blp
    from geo.api_geocode import blp as geocode_blp
    from geo.views import bp as coverage_page_bp
    from notify.api import blp as notify_blp
    from notify.views import bp as notify_dev_bp
    from payments.api import blp as payments_blp
    from payments.finance_views import bp as finance_payments_bp
    from payments.labels import document_label, method_label, payment_label
    from payments.views import bp as payments_pages_bp
    from tracking.views import bp as tracking_bp

    init_web(app)
    app.jinja_env.globals.update(status_label=status_label, payment_label=payment_label, method_label=method_label,
                                 document_label=document_label)
    for blueprint in (procedures_blp, geo_blp, geocode_blp, coverage_blp, points_admin_blp, dossiers_blp,
                      payments_blp, notify_blp, courier_blp, keys_blp, finance_recon_blp, finance_cash_blp,
                      finance_exceptions_blp, finance_reports_blp, alerts_blp, finance_statements_blp):
        api.register_blueprint(blueprint)
        csrf.exempt(blueprint)  # bearer keys carry no cookie; session calls are checked in core.auth
    for blueprint in (health_bp, coverage_page_bp, web_bp, portal_bp, receipts_bp, tracking_bp, payments_pages_bp,
                      finance_payments_bp, finance_cash_bp, backoffice_bp, branch_forms_bp, finance_recon_bp,
                      finance_queue_bp, finance_reports_bp, branch_workspace_bp, monitoring_bp, finance_statements_bp):
        app.register_blueprint(blueprint)
    sandboxes.init_app(app)  # dev plugins, only while no real gateway/courier is configured; never in production
    if app.config["SMS_PROVIDER"] == "dev":  # /dev/sms exists only while the dev outbox is the provider
        app.register_blueprint(notify_dev_bp)
    init_auth(app)
    init_security(app)  # proxy trust, security headers, log redaction
    import backoffice.alert_jobs  # noqa: F401 - the quality alerts, every 15 minutes
    import courier.jobs  # noqa: F401 - registers the outbox handlers
    import finance.cash_jobs  # noqa: F401 - registers the outbox handlers
    import finance.recon_jobs  # noqa: F401 - the nightly reconciliation, payouts on statement import
    import notify.jobs  # noqa: F401 - registers the outbox handlers
    import payments.jobs  # noqa: F401 - registers the outbox handlers
    from core.outbox import init_outbox

    init_outbox(app)
    register_error_handlers(app)  # after Api: ours replace flask-smorest's handlers
    register_cli(app)
    log.info("links in SMS, receipts and webhooks use %s (PUBLIC_BASE_URL)", app.config["PUBLIC_BASE_URL"])
    return app
