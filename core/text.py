"""Text normalisation for diacritic-insensitive search."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"[^a-z0-9]+")


def fold(text: str) -> str:
    """Lower-case, strip Vietnamese diacritics (đ → d) and collapse punctuation to spaces."""
    decomposed = unicodedata.normalize("NFD", text.lower().replace("đ", "d").replace("Đ", "d"))
    stripped = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return _SPACES.sub(" ", stripped).strip()
