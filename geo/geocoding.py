"""The optional online geocoder: Nominatim (OpenStreetMap) through geopy.

Off by default (``NOMINATIM_URL`` empty): addresses are then parsed offline only
(geo/address.py). When it is set, to a self-hosted Nominatim or to the public one
within its usage policy (a real user agent, at most one request a second), an address
is looked up there first and any failure of the service falls back to the offline
parser. A device's GPS fix beats both: a caller that has one does not geocode.

Addresses are personal data: nothing here logs one, nor an exception's text, which
may hold the request URL and so the address.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from urllib.parse import urlsplit

from geopy.adapters import URLLibAdapter
from geopy.exc import GeopyError
from geopy.geocoders import Nominatim

from geo.address import AddressLocation, locate_address

log = logging.getLogger(__name__)

SOURCE_NOMINATIM = "nominatim"
DEFAULT_USER_AGENT = "hanoi-public-service-agents"
DEFAULT_TIMEOUT_S = 5.0
_PRECISION_RANK = {"address": 3, "ward": 2, "district": 1, "province": 0}


class NominatimGeocoder:
    """geopy's Nominatim, limited to Vietnam, answering in Vietnamese."""

    def __init__(self, url: str, user_agent: str = DEFAULT_USER_AGENT, timeout: float = DEFAULT_TIMEOUT_S) -> None:
        parts = urlsplit(url.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("NOMINATIM_URL must be an http(s) URL, such as https://nominatim.example.vn")
        # urllib: one attempt bounded by the timeout (geopy's requests adapter retries twice).
        self._nominatim = Nominatim(domain=parts.netloc + parts.path.rstrip("/"), scheme=parts.scheme,
                                    user_agent=user_agent, timeout=timeout, adapter_factory=URLLibAdapter)

    def geocode(self, text: str) -> AddressLocation | None:
        """The best match, or None. Raises geopy's errors (GeocoderTimedOut, GeocoderServiceError...)."""
        found = self._nominatim.geocode(text, exactly_one=True, country_codes="vn", language="vi")
        if found is None:
            return None
        precision = _precision(found.raw)
        return AddressLocation(lat=found.latitude, lon=found.longitude, precision=precision,
                               source=SOURCE_NOMINATIM, label=found.address, approximate=precision != "address")


def _precision(raw: Mapping) -> str:
    """From Nominatim's place_rank when it gives one: 26 and above are streets and addresses."""
    try:
        rank = int(raw.get("place_rank", 30))
    except (TypeError, ValueError):
        rank = 30
    if rank >= 26:
        return "address"
    return "ward" if rank >= 16 else "district" if rank >= 10 else "province"


def resolve_location(text: str, geocoder: NominatimGeocoder | None,
                     default_province: str | None = None) -> AddressLocation | None:
    """The geocoder's answer when one is configured and finds the address; else the offline parser's."""
    found = None
    if geocoder is not None:
        try:
            found = geocoder.geocode(text)
        except GeopyError as exc:
            log.warning("Nominatim failed (%s), the offline parser answers", type(exc).__name__)
        if found is not None and not found.approximate:
            return found
    offline = locate_address(text, default_province)
    candidates = [c for c in (found, offline) if c is not None]
    return max(candidates, key=lambda c: _PRECISION_RANK.get(c.precision, 0)) if candidates else None
