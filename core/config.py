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
        # The outbox: side effects after commit. Embedded: a runner thread per process.
        "OUTBOX_THREAD": os.environ.get("OUTBOX_THREAD", "1") not in ("0", "false", "False"),
        "OUTBOX_POLL_S": _float("OUTBOX_POLL_S", 2.0),
        "OUTBOX_MAX_ATTEMPTS": _int("OUTBOX_MAX_ATTEMPTS", 8),
        "OUTBOX_RETRY_BASE_S": _float("OUTBOX_RETRY_BASE_S", 5.0),
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
