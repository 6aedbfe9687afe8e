"""Counts in words: a number with its noun in the form CLDR's plural rules ask for (through Babel).

English says "1 minute" and "2 minutes"; Vietnamese has one form for every number ("1 phút", "2 phút").
Plain Python over Babel (no Flask), so pure modules such as geo.router build their texts with it; pages
use Flask-Babel's ``ngettext`` with the catalogue instead.
"""

from __future__ import annotations

from functools import lru_cache

from babel import Locale


@lru_cache(maxsize=8)
def _locale(code: str) -> Locale:
    return Locale.parse(code)


@lru_cache(maxsize=1024)  # the same few counts come back on every routing decision
def plural_form(n: float, locale: str = "en") -> str:
    """CLDR's plural category of ``n`` in ``locale``: "one", "other", ..."""
    return _locale(locale).plural_form(n)


def count(n: int, one: str, other: str, locale: str = "en", shown: str | None = None) -> str:
    """``n`` (or its formatted ``shown`` text) and ``one`` or ``other`` as the language's rules say."""
    return f"{n if shown is None else shown} {one if plural_form(n, locale) == 'one' else other}"
