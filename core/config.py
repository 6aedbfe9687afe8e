"""Configuration from environment variables (12-factor).

Every variable has a default that runs embedded: SQLite under ``instance/``,
no Redis, documents on the local disk. README's configuration table lists them all.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = Path(os.environ.get("INSTANCE_DIR", PROJECT_ROOT / "instance"))


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw not in (None, "") else default


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return float(raw) if raw not in (None, "") else default


def database_url() -> str:
    return normalise_database_url(os.environ.get("DATABASE_URL") or f"sqlite:///{INSTANCE_DIR / 'hanoi_agents.db'}")


def normalise_database_url(url: str) -> str:
    """Heroku-style ``postgres://`` and bare ``postgresql://`` both mean psycopg 3 here."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def load_config() -> dict:
    """Build the Flask config mapping from the environment."""
    return {
        "SECRET_KEY": os.environ.get("SECRET_KEY", "dev-only-not-secret"),
        "SQLALCHEMY_DATABASE_URI": database_url(),
        "DOCUMENT_STORAGE_DIR": os.environ.get(
            "DOCUMENT_STORAGE_DIR", str(INSTANCE_DIR / "documents")
        ),
        "MAX_DOCUMENT_BYTES": _int("MAX_DOCUMENT_BYTES", 10 * 1024 * 1024),
        # Werkzeug refuses bodies past this before any view runs.
        "MAX_CONTENT_LENGTH": _int("MAX_DOCUMENT_BYTES", 10 * 1024 * 1024) + 64 * 1024,
        "SERVICE_RADIUS_KM": _float("SERVICE_RADIUS_KM", 5.0),
        "SERVICE_RADIUS_MINUTES": _float("SERVICE_RADIUS_MINUTES", 30.0),
        # Offline travel model (geo/travel.py documents each default and its source).
        "ROAD_CIRCUITY_FACTOR": _float("ROAD_CIRCUITY_FACTOR", 1.35),
        "TRAVEL_MODE": os.environ.get("TRAVEL_MODE", "motorbike"),
        "MOTORBIKE_SPEED_KMH": _float("MOTORBIKE_SPEED_KMH", 15.0),
        "MOTORBIKE_RUSH_SPEED_KMH": _float("MOTORBIKE_RUSH_SPEED_KMH", 11.0),
        "CAR_SPEED_KMH": _float("CAR_SPEED_KMH", 18.0),
        "CAR_RUSH_SPEED_KMH": _float("CAR_RUSH_SPEED_KMH", 10.0),
        "WALKING_SPEED_KMH": _float("WALKING_SPEED_KMH", 4.5),
        # How old the per-point counts of today's dossiers (daily capacity) may be, in seconds.
        "ROUTING_LOADS_TTL_S": _float("ROUTING_LOADS_TTL_S", 5.0),
        # A self-hosted routing engine ("osrm" or "valhalla"); empty uses the offline model only.
        "ROUTING_ENGINE": os.environ.get("ROUTING_ENGINE", ""),
        "ROUTING_ENGINE_URL": os.environ.get("ROUTING_ENGINE_URL", ""),
        "ROUTING_ENGINE_TIMEOUT_S": _float("ROUTING_ENGINE_TIMEOUT_S", 2.0),
        # The sandbox payment gateway served by this app (/sandbox-gateway/v1) for the embedded default.
        "SANDBOX_GATEWAY_SECRET_KEY": os.environ.get("SANDBOX_GATEWAY_SECRET_KEY", "sk_test_sandbox"),
        "SANDBOX_GATEWAY_FEE_BPS": _int("SANDBOX_GATEWAY_FEE_BPS", 150),
        "SANDBOX_GATEWAY_FEE_FIXED": _int("SANDBOX_GATEWAY_FEE_FIXED", 0),
        # Where the sandbox sends signed webhooks (comma-separated); a path is this app's receiver, in-process.
        "SANDBOX_GATEWAY_WEBHOOK_URL": os.environ.get("SANDBOX_GATEWAY_WEBHOOK_URL", "/api/v1/payments/webhook"),
        # The payment gateway: empty URL means the sandbox this app serves, called in-process.
        "PAYMENT_GATEWAY_URL": os.environ.get("PAYMENT_GATEWAY_URL", ""),
        "PAYMENT_GATEWAY_KEY": os.environ.get("PAYMENT_GATEWAY_KEY", ""),
        "PAYMENT_GATEWAY_TIMEOUT_S": _float("PAYMENT_GATEWAY_TIMEOUT_S", 20.0),
        "PAYMENT_WEBHOOK_SECRET": os.environ.get("PAYMENT_WEBHOOK_SECRET", "whsec_sandbox"),
        "PAYMENT_WEBHOOK_TOLERANCE_S": _int("PAYMENT_WEBHOOK_TOLERANCE_S", 300),
        # The centre's account that VietQR transfers go to (illustrative defaults: a test account).
        # Days a VietQR transfer marked provisional may wait for its statement line before finance is shown it.
        "PROVISIONAL_TRANSFER_DAYS": int(os.environ.get("PROVISIONAL_TRANSFER_DAYS", "3")),
        "VIETQR_BANK_BIN": os.environ.get("VIETQR_BANK_BIN", "970436"),
        "VIETQR_ACCOUNT_NUMBER": os.environ.get("VIETQR_ACCOUNT_NUMBER", "0011009999999"),
        "VIETQR_ACCOUNT_NAME": os.environ.get("VIETQR_ACCOUNT_NAME", "TT PVHCC HA NOI"),
        # E-receipts: the Ed25519 signing key (PKCS8 PEM); empty creates one under instance/ once.
        "RECEIPT_SIGNING_KEY_PATH": os.environ.get("RECEIPT_SIGNING_KEY_PATH", ""),
        "RECEIPT_ISSUER_CODE": os.environ.get("RECEIPT_ISSUER_CODE", "TTPVHCC-HN"),
        "RECEIPT_ISSUER_NAME": os.environ.get("RECEIPT_ISSUER_NAME",
                                              "Trung tâm Phục vụ hành chính công thành phố Hà Nội"),
        # Where people reach this app (links in receipts and SMS when there is no request to learn it from).
        "PUBLIC_BASE_URL": os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000"),
        # How long a citizen's tracking link keeps working after the dossier closes.
        "TRACKING_LINK_TTL_DAYS": _float("TRACKING_LINK_TTL_DAYS", 30),
        # The tracking pages' budget per client IP (Flask-Limiter syntax; empty or "off" turns it off);
        # counted in Redis when REDIS_URL is set, in memory per process otherwise.
        "TRACKING_RATE_LIMIT": os.environ.get("TRACKING_RATE_LIMIT", "60/minute"),
        # Seconds a tracking page may be served from a per-process cache (0: off); see tracking/cache.py.
        "TRACKING_PAGE_CACHE_S": _float("TRACKING_PAGE_CACHE_S", 5),
        # The outbox: side effects after commit. Embedded: a runner thread per process.
        "OUTBOX_THREAD": os.environ.get("OUTBOX_THREAD", "1") not in ("0", "false", "False"),
        "OUTBOX_POLL_S": _float("OUTBOX_POLL_S", 2.0),
        "OUTBOX_MAX_ATTEMPTS": _int("OUTBOX_MAX_ATTEMPTS", 8),
        "OUTBOX_RETRY_BASE_S": _float("OUTBOX_RETRY_BASE_S", 5.0),
        # Redis for background jobs: set, a relay hands due outbox messages to rq workers (make worker);
        # empty, the embedded runner thread runs them in-process.
        "REDIS_URL": os.environ.get("REDIS_URL", ""),
        # rq queues, in the order workers listen to them; a topic goes to the queue named by its
        # prefix (payments.webhook_event → payments), else to the first.
        "JOBS_QUEUES": os.environ.get("JOBS_QUEUES", "default,payments,courier,notify"),
        # Put before queue names and job ids, when several deployments share one Redis.
        "JOBS_NAMESPACE": os.environ.get("JOBS_NAMESPACE", ""),
        "JOBS_RELAY_BATCH": _int("JOBS_RELAY_BATCH", 500),
        "JOBS_RELAY_POLL_S": _float("JOBS_RELAY_POLL_S", 1.0),
        # A message handed to rq but not started within this many seconds is handed over again.
        "JOBS_HANDOFF_S": _float("JOBS_HANDOFF_S", 600.0),
        # rq's limit on one job, in seconds (at most 300: the outbox claim of a running message).
        "JOBS_TIMEOUT_S": _int("JOBS_TIMEOUT_S", 300),
        "JOBS_RESULT_TTL_S": _int("JOBS_RESULT_TTL_S", 3600),
        # rq's retries (seconds between them) when a job fails for want of the database; handler
        # errors are retried by the outbox itself (OUTBOX_MAX_ATTEMPTS, OUTBOX_RETRY_BASE_S).
        "JOBS_RETRY_INTERVALS": os.environ.get("JOBS_RETRY_INTERVALS", "10,30,60,300,900"),
        # rq-dashboard at /admin/rq for admins (needs REDIS_URL).
        "RQ_DASHBOARD": os.environ.get("RQ_DASHBOARD", "0") in ("1", "true", "True", "yes"),
        # SMS to citizens (notify/): "dev" keeps them in the database, readable by admins at /dev/sms (the
        # embedded default); "http" sends through a generic REST gateway (URL, API key, sender name).
        "SMS_PROVIDER": os.environ.get("SMS_PROVIDER", "dev"),
        "SMS_HTTP_URL": os.environ.get("SMS_HTTP_URL", ""),
        "SMS_HTTP_API_KEY": os.environ.get("SMS_HTTP_API_KEY", ""),
        "SMS_HTTP_TIMEOUT_S": _float("SMS_HTTP_TIMEOUT_S", 10.0),
        "SMS_SENDER": os.environ.get("SMS_SENDER", "TTPVHCC HN"),
        # Signs the gateway's delivery receipts (HMAC-SHA256 of the body); empty refuses every receipt.
        "SMS_WEBHOOK_SECRET": os.environ.get("SMS_WEBHOOK_SECRET", ""),
        # At most this many SMS per phone per rolling hour; more wait for a free slot (never dropped).
        "SMS_RATE_LIMIT_PER_HOUR": _int("SMS_RATE_LIMIT_PER_HOUR", 5),
        # Provider calls per SMS before it is failed (at most OUTBOX_MAX_ATTEMPTS).
        "SMS_MAX_ATTEMPTS": _int("SMS_MAX_ATTEMPTS", 5),
        # Phone numbers and message bodies are erased this many days after the SMS was created.
        "SMS_RETENTION_DAYS": _float("SMS_RETENTION_DAYS", 90),
        # The longest PUBLIC_BASE_URL the one-part SMS templates are sized for (tests check them at it).
        "SMS_LINK_BASE_MAX": _int("SMS_LINK_BASE_MAX", 40),
        # The dev outbox's simulated delivery receipt comes this many seconds after the "send".
        "SMS_DEV_RECEIPT_DELAY_S": _float("SMS_DEV_RECEIPT_DELAY_S", 2.0),
        # Courier return of results (courier/): "sandbox" (served by this app, moved by its own clock) or
        # "http" (a carrier's REST API, COURIER_API_URL + COURIER_API_KEY, signed webhooks, polling fallback).
        "COURIER_ADAPTER": os.environ.get("COURIER_ADAPTER", "sandbox"),
        "COURIER_NAME": os.environ.get("COURIER_NAME", ""),
        "COURIER_API_URL": os.environ.get("COURIER_API_URL", ""),
        "COURIER_API_KEY": os.environ.get("COURIER_API_KEY", ""),
        "COURIER_TIMEOUT_S": _float("COURIER_TIMEOUT_S", 10.0),
        # Signs the carrier's webhooks (X-Courier-Signature, HMAC-SHA256) and how old a signature may be.
        "COURIER_WEBHOOK_SECRET": os.environ.get("COURIER_WEBHOOK_SECRET", "cwhsec_sandbox"),
        "COURIER_WEBHOOK_TOLERANCE_S": _int("COURIER_WEBHOOK_TOLERANCE_S", 300),
        # The sandbox courier's share of failed attempts (0 to 1).
        "COURIER_SANDBOX_FAILURE_RATE": _float("COURIER_SANDBOX_FAILURE_RATE", 0.15),
        # Attempts before the result returns to the point for the citizen to collect.
        "COURIER_MAX_ATTEMPTS": _int("COURIER_MAX_ATTEMPTS", 3),
        # Pickup windows (local time, Monday to Friday) of a point that has none of its own; pickups
        # happen on working days only, booked at least COURIER_PICKUP_LEAD_MIN minutes ahead.
        "COURIER_PICKUP_WINDOWS": os.environ.get("COURIER_PICKUP_WINDOWS", "10:00-11:00,15:00-16:00"),
        "COURIER_PICKUP_LEAD_MIN": _float("COURIER_PICKUP_LEAD_MIN", 30),
        # Polling: every COURIER_POLL_INTERVAL_S for a carrier that does not push (the sandbox); after
        # COURIER_POLL_FALLBACK_MIN minutes without news for one that sends webhooks.
        "COURIER_POLL_INTERVAL_S": _float("COURIER_POLL_INTERVAL_S", 300),
        "COURIER_POLL_FALLBACK_MIN": _float("COURIER_POLL_FALLBACK_MIN", 30),
        # The tracking page offers the slots of this many working days for a new attempt; the last 4
        # digits of the phone are asked first, and this many wrong tries lock it for that many minutes.
        "COURIER_RESCHEDULE_DAYS": _int("COURIER_RESCHEDULE_DAYS", 3),
        "COURIER_PHONE_MAX_TRIES": _int("COURIER_PHONE_MAX_TRIES", 5),
        "COURIER_PHONE_LOCK_MIN": _float("COURIER_PHONE_LOCK_MIN", 15),
        # Coverage map tile layer (e.g. a self-hosted tile server); empty: no tiles, the outline is drawn.
        "MAP_TILE_URL": os.environ.get("MAP_TILE_URL", ""),
        "MAP_TILE_ATTRIBUTION": os.environ.get("MAP_TILE_ATTRIBUTION", ""),
        # Online geocoding through a (self-hosted) Nominatim; empty means offline parsing only.
        "NOMINATIM_URL": os.environ.get("NOMINATIM_URL", ""),
        "NOMINATIM_USER_AGENT": os.environ.get("NOMINATIM_USER_AGENT", "hanoi-public-service-agents"),
        # flask-smorest / OpenAPI
        "API_TITLE": "Hanoi Public-Service Agents API",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
        "OPENAPI_SWAGGER_UI_PATH": "/docs",
        "OPENAPI_SWAGGER_UI_URL": "/api/v1/docs/assets/",
    }


def engine_options(url: str) -> dict:
    if url.startswith("sqlite"):
        # Wait for the writer lock instead of failing at once under concurrent requests.
        return {"connect_args": {"timeout": 30}}
    # Recycle connections rather than ping before every checkout (a round trip per request).
    return {"pool_recycle": 1800}
