"""A short-lived, per-process cache of tracking pages, so a burst of views of a dossier (a citizen
reloading, the links of several SMS opened one after another, a link shared in a family chat, a
crawler ignoring noindex) costs one database round trip every few seconds instead of one per view.

``TRACKING_PAGE_CACHE_S`` seconds (default 5; 0 turns it off). Pages are kept per dossier, kind
(page or JSON) and language, with the link's token and the visitor's CSRF token left as
placeholders that each view fills in; which dossier a link opens is remembered.

A page is stale by at most that long: the lifecycle moves in hours and days, and the citizen's
own changes (a rating, a new delivery slot) bypass it — the answer after a form is posted
carries a flashed message and is never served from the cache, and this process forgets the
dossier's pages at once. Unknown and expired links are never cached (their 404 is one query;
the rate limit bounds them). When the time is up the page's data is read again; a page whose
data did not change is not rendered again (its fingerprint is kept with it).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from time import monotonic

MAX_ENTRIES = 2048  # pages of ~10 kB: at most ~20 MB per worker
MAX_LINKS = 8192
CSRF_MARK = "\x00csrf\x00"  # never in a rendered page otherwise
TOKEN_MARK = "\x00token\x00"  # noqa: S105 - a placeholder, not a secret

_pages: OrderedDict[tuple, tuple[float, str, bytes | None]] = OrderedDict()
_links: OrderedDict[str, int] = OrderedDict()
_lock = threading.Lock()


def dossier_of(digest: str) -> int | None:
    """The dossier a link (by its token's hash) was seen to open. A link opens one dossier for good;
    once it expires its dossier's page is no longer read (every link of it answers 404), so a
    cached page outlives the link by at most the page's time."""
    with _lock:
        return _links.get(digest)


def remember_link(digest: str, dossier_id: int) -> None:
    with _lock:
        _links[digest] = dossier_id
        _links.move_to_end(digest)
        while len(_links) > MAX_LINKS:
            _links.popitem(last=False)


def forget_link(digest: str) -> None:
    with _lock:
        _links.pop(digest, None)


def get(key: tuple) -> str | None:
    """The page if it is still fresh."""
    with _lock:
        hit = _pages.get(key)
        if hit is None or hit[0] <= monotonic():
            return None
        _pages.move_to_end(key)
        return hit[1]


def same_as_before(key: tuple, fingerprint: bytes) -> str | None:
    """The page as rendered before (fresh or not) if it was rendered from the same data."""
    with _lock:
        hit = _pages.get(key)
        return hit[1] if hit is not None and hit[2] == fingerprint else None


def put(key: tuple, body: str, ttl: float, fingerprint: bytes | None = None) -> None:
    if ttl <= 0:
        return
    with _lock:
        _pages[key] = (monotonic() + ttl, body, fingerprint)
        _pages.move_to_end(key)
        while len(_pages) > MAX_ENTRIES:
            _pages.popitem(last=False)


def forget_dossier(dossier_id: int) -> None:
    """Drop every cached page of one dossier (any kind, any language)."""
    with _lock:
        for key in [k for k in _pages if k[1] == dossier_id]:
            del _pages[key]


def clear() -> None:
    with _lock:
        _pages.clear()
        _links.clear()
