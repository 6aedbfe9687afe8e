"""The platform's settings: one typed declaration of every setting, read from the environment.

Each setting is declared once below, with its type, its embedded default and what it means;
README's configuration table documents the same names (a test holds the two together, and
another fails when code reads a key that is not declared here). ``load_config`` turns the
environment into the Flask config mapping, where the values live at run time (so tests and
extensions can still override them), and ``settings()`` reads them back typed::

    from core.settings import settings
    settings().tracking_rate_limit       # "60/minute", a str

Values given through ``create_app(overrides)`` win over the environment. A value that does
not parse (``OUTBOX_MAX_ATTEMPTS=ten``) stops the start with the setting's name.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Generic, TypeVar

T = TypeVar("T")

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INSTANCE_DIR = PROJECT_ROOT / "instance"
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})


class SettingsError(ValueError):
    """A setting's value does not parse: the message names the setting."""


def _bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"expected one of {sorted(_TRUE | _FALSE - {''})}")


PARSERS: dict[type, Callable[[str], Any]] = {str: str, int: int, float: float, bool: _bool}


class Setting(Generic[T]):
    """One declared setting: the environment variable (its name upper-cased), type, default, meaning.

    ``env=False`` marks a run-time hook that only code and tests set (never the environment);
    ``default`` may be a function of the environment for defaults derived from other variables.
    """

    def __init__(self, kind: type[T], default: T | Callable[[Mapping[str, str]], T], doc: str, *,
                 env: bool = True, secret: bool = False):
        self.kind, self.default, self.doc, self.env, self.secret = kind, default, doc, env, secret
        self.name = self.key = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name, self.key = name, name.upper()

    def __get__(self, obj: Settings | None, owner: type | None = None) -> T:
        if obj is None:
            return self  # type: ignore[return-value] - the declaration itself, read on the class
        return obj._config[self.key]

    def default_for(self, environ: Mapping[str, str]) -> T:
        return self.default(environ) if callable(self.default) else self.default

    def read(self, environ: Mapping[str, str]) -> T:
        raw = environ.get(self.key) if self.env else None
        if raw is None or (raw == "" and self.kind is not str):
            return self.default_for(environ)
        try:
            return PARSERS[self.kind](raw)
        except ValueError as exc:
            raise SettingsError(f"{self.key}={raw!r} is not a valid {self.kind.__name__}: {exc}") from None


def _instance_dir(environ: Mapping[str, str]) -> str:
    return environ.get("INSTANCE_DIR") or str(DEFAULT_INSTANCE_DIR)


def _database_url(environ: Mapping[str, str]) -> str:
    return f"sqlite:///{Path(_instance_dir(environ)) / 'hanoi_agents.db'}"


def _document_dir(environ: Mapping[str, str]) -> str:
    return str(Path(_instance_dir(environ)) / "documents")


def _legacy_failure_rate(environ: Mapping[str, str]) -> float:
    return float(environ.get("COURIER_SANDBOX_FAILURE_RATE") or 0.15)


def is_production(values: Mapping[str, Any]) -> bool:
    """``APP_ENV`` says production (``production`` or ``prod``), in the environment or an app's config."""
    return str(values.get("APP_ENV") or "").strip().lower() in ("production", "prod")


def _public_base_url(environ: Mapping[str, str]) -> str:
    """Where ``make run`` listens (HOST, PORT), so SMS and receipt links work out of the box."""
    return f"http://{environ.get('HOST') or '127.0.0.1'}:{environ.get('PORT') or '5000'}"


class Settings:
    """Typed, read-only access to the settings of one app (a view over its config mapping)."""

    __slots__ = ("_config",)

    def __init__(self, config: Mapping[str, Any]):
        self._config = config

    @classmethod
    def declared(cls) -> list[Setting]:
        return [value for value in vars(cls).values() if isinstance(value, Setting)]

    # ------------------------------------------------------------ the platform
    secret_key = Setting(str, "dev-only-not-secret", "Flask's secret (sessions, CSRF); a long random value in "
                         "production", secret=True)
    database_url = Setting(str, _database_url, "SQLAlchemy URL; `postgresql://user@host/db` uses psycopg 3")
    instance_dir = Setting(str, _instance_dir, "where the embedded database, documents and generated keys live")
    log_level = Setting(str, "INFO", "Python logging level")
    log_format = Setting(str, "text", "`json`: one JSON object per log line (python-json-logger); `text`: plain")
    metrics_token = Setting(str, "", "bearer token for /metrics (Prometheus); without it, admins only", secret=True)
    metrics_enabled = Setting(bool, True, "count requests for /metrics")
    prometheus_multiproc_dir = Setting(str, "", "where each gunicorn worker writes its metrics (prometheus_client's "
                                       "multi-process mode; gunicorn.conf.py sets it)")
    database_pre_ping = Setting(bool, True, "ping a pooled connection as it is taken from the pool, so one that "
                                "died with a database restart is replaced instead of failing a request")
    database_retry_after_s = Setting(int, 5, "the Retry-After of the 503 answered while the database is "
                                     "unreachable")
    app_env = Setting(str, "development", "`production` (or `prod`) refuses to start while a dev sandbox would be "
                      "mounted or a built-in development secret is in use")
    host = Setting(str, "127.0.0.1", "where `make run` listens (and the default of PUBLIC_BASE_URL)")
    port = Setting(str, "5000", "the port `make run` listens on (and the default of PUBLIC_BASE_URL)")
    trusted_proxy_count = Setting(int, 0, "reverse proxies in front of the app trusted for X-Forwarded-For/-Proto/"
                                  "-Host (0: none; one TLS-terminating proxy: 1)")
    session_cookie_secure = Setting(bool, is_production, "session, language and device cookies Secure on every "
                                    "request (on https requests they always are); default: on in production")
    hsts_max_age_s = Setting(int, 365 * 24 * 3600, "Strict-Transport-Security max-age on https responses (0: none)")
    sign_in_ip_limit = Setting(str, "20 per 15 minutes", "failed sign-ins one client IP may make (limits syntax; "
                               "`off` disables): password spraying stops here")
    sign_in_device_days = Setting(float, 180.0, "a successful sign-in marks the device (signed cookie) as known "
                                  "this long: others' failures do not lock it out (OWASP device cookies)")
    api_key_rotation_overlap_h = Setting(float, 24.0, "how long a rotated API key keeps working beside its "
                                         "replacement, hours (at most 720)")
    public_base_url = Setting(str, _public_base_url, "how people reach this app: the base of every link in SMS, "
                              "receipts and webhooks (never taken from a request's Host header)")

    pii_encryption_keys = Setting(str, "", "Fernet keys (comma-separated; the first encrypts) for CCCD and phone "
                                  "numbers at rest; empty with PII_HASH_KEY empty: generated once under "
                                  "INSTANCE_DIR", secret=True)
    pii_hash_key = Setting(str, "", "the key of the blind indexes that find CCCD and phone numbers (32+ random "
                           "characters)", secret=True)

    # ------------------------------------------------------------ documents
    document_storage_dir = Setting(str, _document_dir, "content-addressed document files")
    max_document_bytes = Setting(int, 10 * 1024 * 1024, "largest accepted document")
    max_image_pixels = Setting(int, 90_000_000, "largest accepted image, width × height read from its header "
                               "(decompression bombs)")

    # ------------------------------------------------------------ routing
    service_radius_km = Setting(float, 5.0, "the distance half of the service-radius rule")
    service_radius_minutes = Setting(float, 30.0, "the travel-time half of the rule")
    road_circuity_factor = Setting(float, 1.35, "road distance ÷ straight-line distance in Hanoi (geo/travel.py)")
    travel_mode = Setting(str, "motorbike", "how citizens are assumed to travel: motorbike, car or walking")
    motorbike_speed_kmh = Setting(float, 15.0, "off-peak motorbike speed")
    motorbike_rush_speed_kmh = Setting(float, 11.0, "weekday rush-hour motorbike speed")
    car_speed_kmh = Setting(float, 18.0, "off-peak car speed")
    car_rush_speed_kmh = Setting(float, 10.0, "weekday rush-hour car speed")
    walking_speed_kmh = Setting(float, 4.5, "walking speed at any hour")
    routing_loads_ttl_s = Setting(float, 5.0, "how old the per-point counts of today's dossiers may be, seconds")
    branch_queue_page_size = Setting(int, 25, "dossiers per page of a branch work queue (/branch)")
    routing_engine = Setting(str, "", "`osrm` or `valhalla` for a self-hosted engine; empty: the offline model")
    routing_engine_url = Setting(str, "", "the routing engine's base URL")
    routing_engine_timeout_s = Setting(float, 2.0, "after this the decision falls back to the offline model")
    nominatim_url = Setting(str, "", "a (self-hosted) Nominatim for address lookup; empty: offline parsing only")
    nominatim_user_agent = Setting(str, "hanoi-public-service-agents", "the User-Agent sent to Nominatim")
    map_tile_url = Setting(str, "", "a tile server for the coverage map; empty draws Hanoi's outline only")
    map_tile_attribution = Setting(str, "", "the tile layer's attribution")

    # ------------------------------------------------------------ payments
    payment_gateway_url = Setting(str, "", "a Stripe-compatible gateway's API base; empty: the embedded sandbox")
    payment_gateway_key = Setting(str, "", "the gateway's secret key (empty: the sandbox's key)", secret=True)
    payment_gateway_timeout_s = Setting(float, 20.0, "read timeout of a gateway call")
    payment_webhook_secret = Setting(str, "", "the endpoint secret the real gateway's webhooks are signed with "
                                     "(empty: only the mounted sandbox's are accepted)", secret=True)
    payment_webhook_tolerance_s = Setting(int, 300, "how old a webhook's signed timestamp may be")
    sandbox_gateway_secret_key = Setting(str, "sk_test_sandbox", "the key the embedded sandbox gateway accepts",
                                         secret=True)
    sandbox_gateway_fee_bps = Setting(int, 150, "the sandbox's fee per charge, basis points of the amount")
    sandbox_gateway_fee_fixed = Setting(int, 0, "the sandbox's fixed fee per charge, đồng")
    sandbox_gateway_webhook_secret = Setting(str, "whsec_sandbox", "the sandbox's own webhook signing secret "
                                             "(never PAYMENT_WEBHOOK_SECRET); accepted only while it is mounted",
                                             secret=True)
    sandbox_gateway_webhook_url = Setting(str, "/api/v1/payments/webhook", "where the sandbox sends signed "
                                          "webhooks (comma-separated; a path is this app, in-process)")
    sandbox_gateway_public_url = Setting(str, "", "the sandbox's own base URL in links it gives out "
                                         "(3-D Secure pages); empty: PUBLIC_BASE_URL")
    sandbox_gateway_webhook_retry_base_s = Setting(int, 60, "the sandbox's first webhook retry delay (doubling)")
    sandbox_gateway_webhook_timeout_s = Setting(float, 3.0, "the sandbox's timeout delivering one webhook")
    sandbox_gateway_available_delay_s = Setting(int, 0, "seconds before a sandbox charge's funds are available")
    sandbox_gateway_deliver_inline = Setting(bool, True, "deliver the sandbox's webhooks during the API call "
                                             "that caused them (as soon as possible)")
    sandbox_gateway_fault_sleep_s = Setting(float, 5.0, "how long the sandbox's injected `slow` fault waits")
    sandbox_gateway_faults = Setting(list, None, "tests only: faults the sandbox injects, one per request",
                                     env=False)
    sandbox_gateway_webhook_transport = Setting(object, None, "tests only: the sandbox's webhook transport",
                                                env=False)
    service_fee_cap_vnd = Setting(int, 50_000, "the most an agent's service fee may add on top of a dossier's "
                                  "state fee (agent services must add no financial burden); 0: no cap")
    provisional_transfer_days = Setting(int, 3, "days a VietQR transfer the agent marked as shown at the counter "
                                        "may wait for its bank-statement line before finance is shown it")
    finance_payout_bank_days = Setting(int, 2, "working days a gateway payout may take to show on the bank "
                                       "statement: the window matching a line to a payout by amount, and when a "
                                       "payout not seen there goes to the exception queue")
    vietqr_bank_bin = Setting(str, "970436", "the BIN of the bank VietQR transfers go to (a test bank)")
    vietqr_account_number = Setting(str, "0011009999999", "the centre's account number (a test account)")
    vietqr_account_name = Setting(str, "TT PVHCC HA NOI", "the account holder's name")
    receipt_signing_key_path = Setting(str, "", "the Ed25519 key (PKCS8 PEM) e-receipts are signed with; "
                                       "empty creates one under INSTANCE_DIR once")
    receipt_issuer_code = Setting(str, "TTPVHCC-HN", "the issuer code of card and VietQR receipts")
    receipt_issuer_name = Setting(str, "Trung tâm Phục vụ hành chính công thành phố Hà Nội",
                                  "the issuer name of card and VietQR receipts")
    service_invoice_vat_rate = Setting(str, "", "the VAT rate of the service invoice's agent and courier fees: "
                                       "`8`, `10` (percent) or `KCT` (not subject); empty: the legal rate on "
                                       "the day (8% from 1/7/2023 to 31/12/2026 under the reductions of "
                                       "Resolution 204/2025/QH15 and before, else 10%)")

    # ------------------------------------------------------------ jobs
    outbox_thread = Setting(bool, True, "run due outbox messages in a thread of each web process")
    outbox_poll_s = Setting(float, 2.0, "the runner's poll interval")
    outbox_max_attempts = Setting(int, 8, "attempts before an outbox message is failed")
    outbox_retry_base_s = Setting(float, 5.0, "the first retry delay of a failed message (doubling)")
    redis_url = Setting(str, "", "set: a relay hands due outbox messages to rq workers; empty: in-process")
    jobs_queues = Setting(str, "default,payments,courier,notify", "rq queues in worker priority order")
    jobs_namespace = Setting(str, "", "a prefix for queue names and job ids when deployments share one Redis")
    jobs_relay_batch = Setting(int, 500, "rows per relay claim and Redis transaction")
    jobs_batch_size = Setting(int, 20, "due outbox messages of one queue handed to rq as one job (each message "
                              "still claimed and run on its own)")
    jobs_relay_poll_s = Setting(float, 1.0, "the relay's longest sleep")
    jobs_handoff_s = Setting(float, 30.0, "how long a message handed to rq stays claimed; then the relay asks "
                             "Redis and hands it over again if Redis lost the job")
    jobs_maintenance_s = Setting(int, 60, "seconds between an rq worker's maintenance (registry clean-up, "
                                 "taking over a dead worker's scheduler)")
    jobs_timeout_s = Setting(int, 300, "rq's limit on one job, seconds (at most 300)")
    jobs_result_ttl_s = Setting(int, 3600, "how long rq keeps a finished job")
    jobs_retry_intervals = Setting(str, "10,30,60,300,900", "rq's retry delays when the database is unreachable")
    rq_dashboard = Setting(bool, False, "mount rq-dashboard at /admin/rq for admins (needs REDIS_URL)")

    # ------------------------------------------------------------ SMS
    sms_provider = Setting(str, "dev", "`dev` keeps SMS in the database (/dev/sms); `http`: a REST gateway")
    sms_http_url = Setting(str, "", "the SMS gateway's send endpoint")
    sms_http_api_key = Setting(str, "", "the SMS gateway's bearer key", secret=True)
    sms_http_timeout_s = Setting(float, 10.0, "read timeout of SMS gateway calls")
    sms_sender = Setting(str, "TTPVHCC HN", "the sender name")
    sms_webhook_secret = Setting(str, "", "HMAC key of X-SMS-Signature on delivery receipts; empty refuses all",
                                 secret=True)
    sms_rate_limit_per_hour = Setting(int, 5, "SMS per phone per rolling hour; more are deferred, never dropped")
    sms_max_attempts = Setting(int, 5, "provider calls per SMS before it is failed")
    sms_retention_days = Setting(float, 90.0, "phone numbers and bodies are erased this long after the SMS")
    sms_link_base_max = Setting(int, 40, "the longest PUBLIC_BASE_URL the one-part templates are sized for")
    sms_dev_receipt_delay_s = Setting(float, 2.0, "delay of the development outbox's simulated receipt")

    # ------------------------------------------------------------ courier
    courier_adapter = Setting(str, "sandbox", "`sandbox` (simulated, clock-driven) or `http` (a courier's API)")
    courier_name = Setting(str, "", "the HTTP courier's name")
    courier_api_url = Setting(str, "", "the HTTP courier's base URL")
    courier_api_key = Setting(str, "", "the HTTP courier's bearer key", secret=True)
    courier_timeout_s = Setting(float, 10.0, "read timeout of courier calls")
    courier_webhook_secret = Setting(str, "", "HMAC secret of the real courier's X-Courier-Signature", secret=True)
    courier_webhook_tolerance_s = Setting(int, 300, "the largest age of a courier webhook's signature")
    sandbox_courier_failure_rate = Setting(float, _legacy_failure_rate, "the share of the sandbox courier's attempts "
                                           "that fail (COURIER_SANDBOX_FAILURE_RATE, its old name, still works)")
    sandbox_courier_webhook_secret = Setting(str, "cwhsec_sandbox", "the secret the sandbox courier checks pushed "
                                             "webhooks with", secret=True)
    courier_max_attempts = Setting(int, 3, "delivery attempts before the result goes back to the point")
    courier_pickup_windows = Setting(str, "10:00-11:00,15:00-16:00", "default pickup windows, Monday–Friday")
    courier_pickup_lead_min = Setting(float, 30.0, "the least notice before a pickup window, minutes")
    courier_poll_interval_s = Setting(float, 300.0, "polling of couriers without webhooks")
    courier_poll_fallback_min = Setting(float, 30.0, "polling after this long without webhook news")
    courier_reschedule_days = Setting(int, 3, "working days of slots offered after a failed attempt")
    courier_phone_max_tries = Setting(int, 5, "wrong last-4-digit tries before rescheduling locks")
    courier_phone_lock_min = Setting(float, 15.0, "how long rescheduling stays locked, minutes")

    # ------------------------------------------------------------ tracking
    tracking_link_ttl_days = Setting(float, 30.0, "a tracking link stops working this long after its dossier "
                                     "closes")
    tracking_rate_limit = Setting(str, "60/minute", "requests per client IP over the tracking routes "
                                  "(Flask-Limiter syntax; empty or `off` turns it off)")
    tracking_page_cache_s = Setting(float, 5.0, "seconds a tracking page may be served from a per-process cache")

    # ------------------------------------------------------------ finance
    finance_cash_handover_days = Setting(int, 2, "working days an agent point may hold collected cash before "
                                         "it is overdue (the exception queue, the agent's home page)")

    # ------------------------------------------------------------ monitoring and quality alerts
    alert_capacity_percent = Setting(float, 90.0, "a point whose dossiers received today pass this share of its "
                                     "daily capacity raises a quality alert")
    alert_on_time_rate_percent = Setting(float, 80.0, "a point whose on-time rate this week (Monday to now) falls "
                                         "under this raises a quality alert")
    alert_on_time_min_resolved = Setting(int, 5, "the on-time alert needs at least this many dossiers resolved "
                                         "at the point this week")
    alert_low_rating = Setting(int, 2, "a citizen's rating at or under this (1 to 5) raises a quality alert")


# Flask's and its extensions' own keys: derived from the settings, or fixed for this app.
OPENAPI = {
    "API_TITLE": "Hanoi Public-Service Agents API",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/api/v1",
    "OPENAPI_JSON_PATH": "openapi.json",
    "OPENAPI_SWAGGER_UI_PATH": "/docs",
    "OPENAPI_SWAGGER_UI_URL": "/api/v1/docs/assets/",
}
# Keys Flask and its extensions define and read themselves; code may read these from app.config too.
FRAMEWORK_KEYS = frozenset({
    "TESTING", "DEBUG", "SQLALCHEMY_DATABASE_URI", "SQLALCHEMY_ENGINE_OPTIONS", "MAX_CONTENT_LENGTH",
    "SESSION_COOKIE_SAMESITE", "SESSION_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY", "REMEMBER_COOKIE_SAMESITE",
    "REMEMBER_COOKIE_SECURE", "REMEMBER_COOKIE_HTTPONLY", "PREFERRED_URL_SCHEME", "SERVER_NAME",
    "WTF_CSRF_ENABLED", "WTF_CSRF_TIME_LIMIT", "WTF_CSRF_SSL_STRICT", "BABEL_DEFAULT_LOCALE",
    "BABEL_TRANSLATION_DIRECTORIES", "BABEL_DEFAULT_TIMEZONE", "RATELIMIT_ENABLED", "RATELIMIT_STORAGE_URI",
    "PERMANENT_SESSION_LIFETIME", "RQ_DASHBOARD_REDIS_URL", *OPENAPI,
})


def normalise_database_url(url: str) -> str:
    """Heroku-style ``postgres://`` and bare ``postgresql://`` both mean psycopg 3 here."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def load_config(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The Flask config mapping: every declared setting from ``environ`` (default: the process's),
    and the framework keys derived from them."""
    environ = os.environ if environ is None else environ
    config = {setting.key: setting.read(environ) for setting in Settings.declared()}
    config["DATABASE_URL"] = normalise_database_url(config["DATABASE_URL"])
    config["SQLALCHEMY_DATABASE_URI"] = config["DATABASE_URL"]
    # Werkzeug refuses bodies past this before any view runs (a document plus its form fields).
    config["MAX_CONTENT_LENGTH"] = config["MAX_DOCUMENT_BYTES"] + 64 * 1024
    config.update(OPENAPI)
    return config


def settings() -> Settings:
    """The current app's settings (inside an app context)."""
    from flask import current_app  # here, so this module stays importable without Flask

    found = current_app.extensions.get("settings")
    if found is None:
        found = current_app.extensions["settings"] = Settings(current_app.config)
    return found


def public_url(path: str = "") -> str:
    """An absolute link for people outside a request (SMS, receipts, webhooks): always PUBLIC_BASE_URL,
    never the Host header a client sent."""
    base = str(settings().public_base_url).rstrip("/")
    return f"{base}/{path.lstrip('/')}" if path else base
