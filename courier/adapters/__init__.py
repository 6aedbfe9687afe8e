"""Courier adapters: the configured one (``COURIER_ADAPTER``: ``http``, or a mounted plugin's such as
the dev sandbox's ``sandbox``, sandboxes/courier)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from flask import current_app

from courier.adapters.base import CourierAdapter
from courier.adapters.http import HttpCourier

Factory = Callable[[Mapping], CourierAdapter]


def build(config, factories: Mapping[str, Factory] | None = None) -> CourierAdapter:
    """The adapter ``COURIER_ADAPTER`` names: ``http``, or one of ``factories`` (the mounted plugins')."""
    kind = config.get("COURIER_ADAPTER", "sandbox")
    if kind == "http":
        return HttpCourier(config.get("COURIER_API_URL", ""), config.get("COURIER_API_KEY", ""),
                           config.get("COURIER_WEBHOOK_SECRET", ""), name=config.get("COURIER_NAME") or "http",
                           timeout=(3.05, float(config.get("COURIER_TIMEOUT_S", 10.0))),
                           tolerance_s=int(config.get("COURIER_WEBHOOK_TOLERANCE_S", 300)))
    factory = (factories or {}).get(kind)
    if factory is not None:
        return factory(config)
    raise ValueError(f"COURIER_ADAPTER must be 'http' or a mounted plugin's ({', '.join(factories or ()) or 'none'}"
                     f"), not {kind!r}")


def adapter() -> CourierAdapter:
    """The app's adapter, built once (tests put their own in ``app.extensions['courier_adapter']``)."""
    extensions = current_app.extensions
    if extensions.get("courier_adapter") is None:
        extensions["courier_adapter"] = build(current_app.config, extensions.get("courier_adapter_factories"))
    return extensions["courier_adapter"]
