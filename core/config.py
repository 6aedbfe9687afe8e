"""Database engine options, and where the settings are declared (``core.settings``)."""

from __future__ import annotations

from core.settings import PROJECT_ROOT, load_config, normalise_database_url

__all__ = ["PROJECT_ROOT", "engine_options", "load_config", "normalise_database_url"]


def engine_options(url: str) -> dict:
    if url.startswith("sqlite"):
        # Wait for the writer lock instead of failing at once under concurrent requests.
        return {"connect_args": {"timeout": 30}}
    # Recycle connections rather than ping before every checkout (a round trip per request).
    return {"pool_recycle": 1800}
