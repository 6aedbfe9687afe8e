"""Travel time from a self-hosted routing engine (OSRM or Valhalla) through routingpy.

Pure Python (no Flask, no database). ``EngineTravelTime`` implements the
``TravelTimeProvider`` protocol of geo/travel.py:

- one matrix request per estimate: locations = [origin] + destinations, sources = [0],
  destinations = [1..n] (OSRM ``/table/v1/{profile}/...``, Valhalla ``/sources_to_targets``);
- coordinates go to the engine as [lon, lat], the order both engines and routingpy use;
- a timeout, and no retries beyond it: routingpy's retry on HTTP 503 and on HTTP 429 is
  turned off, so a slow or overloaded engine cannot hold a citizen's request;
- when the engine fails (timeout, connection error, HTTP error, malformed answer) the
  offline model answers instead and the estimate says why (``fallback_reason``); when the
  engine finds no route to some destinations, the offline model fills those in only;
- a small circuit breaker: after ``failure_threshold`` consecutive failures the engine is
  skipped for ``cooldown_s`` seconds, then tried again by the next request.

Nothing here logs the citizen's coordinates (personal data): warnings carry the engine's
name and a short reason only, never an exception's text, which may hold the request URL.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime

import requests
from routingpy import exceptions as rp_errors
from routingpy.client_default import Client
from routingpy.routers import OSRM, Valhalla

from geo.travel import Mode, OfflineTravelTime, TravelEstimate

log = logging.getLogger(__name__)

ENGINES = ("osrm", "valhalla")

# OSRM's profile is fixed when its data are prepared (osrm-extract -p car.lua): a stock
# self-hosted OSRM serves "car", "bike" and "foot" only, so a motorbike takes the car
# profile there unless the operator built a "motorbike" one (pass profiles=... to use it).
DEFAULT_OSRM_PROFILES: Mapping[Mode, str] = {Mode.MOTORBIKE: "car", Mode.CAR: "car", Mode.WALKING: "foot"}
# Valhalla's costing models; motor_scooter is its two-wheeler model (mopeds, scooters).
DEFAULT_VALHALLA_PROFILES: Mapping[Mode, str] = {
    Mode.MOTORBIKE: "motor_scooter", Mode.CAR: "auto", Mode.WALKING: "pedestrian",
}
DEFAULT_PROFILES: Mapping[str, Mapping[Mode, str]] = {
    "osrm": DEFAULT_OSRM_PROFILES, "valhalla": DEFAULT_VALHALLA_PROFILES,
}


class EngineFailure(Exception):
    """The engine gave no usable answer; ``reason`` is short English without personal data.

    ``unhealthy`` is False for a refusal of this one request (HTTP 4xx: a point the engine
    cannot place on its roads, no path at all): the engine works, so the circuit breaker
    does not count it.
    """

    def __init__(self, reason: str, unhealthy: bool = True):
        super().__init__(reason)
        self.reason = reason
        self.unhealthy = unhealthy


class _NoRetryClient(Client):
    """routingpy's requests client without its retry loop.

    With ``retry_over_query_limit=False`` the only retry routingpy 1.3 still makes is on
    HTTP 503 ("server down"), after a back-off sleep; here the first 503 is final.
    """

    def _request(self, url, get_params=None, post_params=None, first_request_time=None,
                 retry_counter=0, dry_run=None):
        if retry_counter > 0:
            raise rp_errors.RouterServerError(503, "Service Unavailable (not retried)")
        return super()._request(url, get_params or {}, post_params, first_request_time, retry_counter, dry_run)


class EngineTravelTime:
    """Minutes by road from an OSRM or Valhalla instance, over the offline model.

    ``profiles`` maps each mode to the engine's profile (OSRM) or costing (Valhalla);
    the defaults are ``DEFAULT_OSRM_PROFILES`` (motorbike → "car", as a stock OSRM has
    no motorbike profile) and ``DEFAULT_VALHALLA_PROFILES`` (motorbike → "motor_scooter").

    ``timeout_s`` bounds the connection and each read of the one HTTP request (requests'
    timeout semantics); routingpy's retries are disabled. ``failure_threshold`` consecutive
    failures open the circuit breaker for ``cooldown_s`` seconds (``clock`` is
    ``time.monotonic`` unless a test passes another).
    """

    def __init__(
        self,
        engine: str,
        url: str,
        timeout_s: float,
        offline: OfflineTravelTime,
        profiles: Mapping[Mode, str] | None = None,
        failure_threshold: int = 3,
        cooldown_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        user_agent: str | None = None,
    ):
        if engine not in ENGINES:
            raise ValueError(f"Unknown routing engine {engine!r}: expected one of {', '.join(ENGINES)}.")
        if not url or not url.strip():
            raise ValueError("A routing engine needs a base URL.")
        if not timeout_s or timeout_s <= 0:
            raise ValueError("The routing engine timeout must be a positive number of seconds.")
        if failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1.")
        self.name = engine
        self.url = url.strip().rstrip("/")
        self.timeout_s = float(timeout_s)
        self.offline = offline
        self.profiles = dict(DEFAULT_PROFILES[engine])
        if profiles:
            self.profiles.update(profiles)
        self.failure_threshold = failure_threshold
        self.cooldown_s = float(cooldown_s)
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._open_until: float | None = None
        router = OSRM if engine == "osrm" else Valhalla
        self.router = router(
            self.url,
            user_agent=user_agent or "hanoi-public-services",
            timeout=self.timeout_s,
            retry_timeout=self.timeout_s,
            retry_over_query_limit=False,
            client=_NoRetryClient,
        )

    def __repr__(self) -> str:
        return f"EngineTravelTime({self.name!r}, {self.url!r}, timeout_s={self.timeout_s})"

    # -- the provider interface -------------------------------------------------------

    def estimate(
        self,
        origin: tuple[float, float],
        destinations: Sequence[tuple[float, float]],
        distances_km: Sequence[float],
        mode: Mode,
        local: datetime | None,
    ) -> TravelEstimate:
        if not destinations:
            return TravelEstimate((), self.name, ())
        skipped = self._skip_reason()
        if skipped:
            return self._fallback(skipped, origin, destinations, distances_km, mode, local, log_it=False)
        try:
            seconds, metres = self._matrix(origin, destinations, mode)
        except EngineFailure as failure:
            if failure.unhealthy:
                self._record_failure()
            return self._fallback(failure.reason, origin, destinations, distances_km, mode, local)
        self._record_success()

        missing = [i for i, s in enumerate(seconds) if s is None]
        if not missing:
            road_km = self._road_km(seconds, metres, distances_km)
            return TravelEstimate(tuple(s / 60.0 for s in seconds), self.name, road_km)
        # The engine answered but found no route to some points (outside its data, an
        # island of the road graph): the offline model fills in those points only.
        reason = f"{self.name}: no route to {len(missing)} of {len(seconds)} points"
        log.warning("Routing engine answer incomplete, the offline model fills in: %s", reason)
        offline = self.offline.estimate(origin, destinations, distances_km, mode, local).minutes
        if len(missing) == len(seconds):
            return TravelEstimate(offline, self.offline.name, fallback_reason=reason)
        minutes = tuple(offline[i] if s is None else s / 60.0 for i, s in enumerate(seconds))
        return TravelEstimate(minutes, self.name, self._road_km(seconds, metres, distances_km), reason)

    def _road_km(self, seconds, metres, distances_km) -> tuple[float, ...] | None:
        """The engine's road distances; where it has none, the offline model's (geodesic × circuity)."""
        if metres is None:
            return None
        circuity = self.offline.model.circuity
        return tuple(distances_km[i] * circuity if s is None or m is None else m / 1000.0
                     for i, (s, m) in enumerate(zip(seconds, metres, strict=True)))

    # -- the engine request -----------------------------------------------------------

    def _matrix(self, origin, destinations, mode: Mode) -> tuple[list, list | None]:
        """Seconds (None where unreachable) and metres (or None) from the origin to each destination."""
        n = len(destinations)
        locations = [[float(origin[1]), float(origin[0])]] + [[float(lon), float(lat)] for lat, lon in destinations]
        profile = self.profiles[Mode(mode)]
        try:
            if self.name == "osrm":
                matrix = self.router.matrix(locations, profile=profile, sources=[0],
                                            destinations=list(range(1, n + 1)),
                                            annotations=["duration", "distance"])
            else:
                matrix = self.router.matrix(locations, profile, sources=[0], destinations=list(range(1, n + 1)))
        except rp_errors.Timeout as exc:
            raise EngineFailure(f"{self.name}: timeout after {self.timeout_s} s") from exc
        except rp_errors.RouterError as exc:  # RouterApiError (4xx), RouterServerError (5xx), OverQueryLimit (429)
            refused = isinstance(exc, rp_errors.RouterApiError) and not isinstance(exc, rp_errors.OverQueryLimit)
            raise EngineFailure(f"{self.name}: HTTP {exc.status}{_engine_code(exc.message)}",
                                unhealthy=not refused) from exc
        except rp_errors.JSONParseError as exc:
            raise EngineFailure(f"{self.name}: malformed response (not JSON)") from exc
        except requests.Timeout as exc:  # not reached through routingpy, kept for safety
            raise EngineFailure(f"{self.name}: timeout after {self.timeout_s} s") from exc
        except requests.ConnectionError as exc:
            raise EngineFailure(f"{self.name}: not reachable") from exc
        except requests.RequestException as exc:
            raise EngineFailure(f"{self.name}: request failed ({type(exc).__name__})") from exc
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
            # routingpy's parsing met an answer of the wrong shape (e.g. Valhalla's non-verbose format).
            raise EngineFailure(f"{self.name}: malformed response ({type(exc).__name__})") from exc
        except Exception as exc:  # noqa: BLE001 - an engine must never break routing; the offline model answers
            raise EngineFailure(f"{self.name}: unexpected error ({type(exc).__name__})") from exc

        raw = matrix.raw if isinstance(matrix.raw, dict) else None
        if raw is None:
            raise EngineFailure(f"{self.name}: malformed response (no JSON object)")
        if self.name == "osrm" and raw.get("code") != "Ok":
            raise EngineFailure(f"{self.name}: error {str(raw.get('code'))[:40]}")
        seconds = _row(matrix.durations, n)
        if seconds is None:
            raise EngineFailure(f"{self.name}: malformed response (durations)")
        metres = _row(matrix.distances, n) if matrix.distances is not None else None
        if matrix.distances is not None and metres is None:
            raise EngineFailure(f"{self.name}: malformed response (distances)")
        return seconds, metres

    # -- fallback and circuit breaker -------------------------------------------------

    def _fallback(self, reason, origin, destinations, distances_km, mode, local, log_it=True) -> TravelEstimate:
        if log_it:
            log.warning("Routing engine failed, the offline model answers: %s", reason)
        estimate = self.offline.estimate(origin, destinations, distances_km, mode, local)
        return replace(estimate, fallback_reason=reason)

    def _skip_reason(self) -> str | None:
        with self._lock:
            if self._open_until is None:
                return None
            if self._clock() < self._open_until:
                return f"{self.name}: skipped after {self._failures} failures"
            self._open_until = None  # half-open: this request tries the engine again
            return None

    def _record_failure(self) -> None:
        with self._lock:
            self._failures += 1
            if self._failures >= self.failure_threshold:
                if self._failures == self.failure_threshold:
                    log.warning("Routing engine %s skipped for %g s after %d consecutive failures",
                                self.name, self.cooldown_s, self._failures)
                self._open_until = self._clock() + self.cooldown_s

    def _record_success(self) -> None:
        with self._lock:
            self._failures = 0
            self._open_until = None


def _row(matrix, n: int) -> list | None:
    """The single row of a one-source matrix as numbers ≥ 0 or None; None if it is malformed."""
    if not isinstance(matrix, list) or len(matrix) != 1 or not isinstance(matrix[0], list) or len(matrix[0]) != n:
        return None
    row = []
    for value in matrix[0]:
        if value is None:
            row.append(None)
        elif isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
            return None
        else:
            row.append(float(value))
    return row


def _engine_code(body: str | None) -> str:
    """The engine's own error code from an error body, e.g. " InvalidQuery" (OSRM) or " (error 171)" (Valhalla)."""
    try:
        data = json.loads(body) if body else None
    except (TypeError, ValueError):
        return ""
    if not isinstance(data, dict):
        return ""
    if isinstance(data.get("code"), str):
        return " " + data["code"][:40]
    if isinstance(data.get("error_code"), int):
        return f" (error {data['error_code']})"
    return ""


def engine_provider(engine: str, url: str, timeout_s: float, offline: OfflineTravelTime) -> EngineTravelTime:
    """The configured engine ("osrm" or "valhalla", at ``url``) over the offline model."""
    name = (engine or "").strip().lower()
    if name not in ENGINES:
        raise ValueError(f"Unknown routing engine {engine!r}: expected one of {', '.join(ENGINES)}.")
    if not url or not url.strip():
        raise ValueError(f"ROUTING_ENGINE={name} needs ROUTING_ENGINE_URL (the engine's base URL).")
    return EngineTravelTime(name, url, timeout_s, offline)
