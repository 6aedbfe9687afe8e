"""Procedure search that ignores diacritics and tolerates typos.

Pure Python over plain data. Each query word is compared once with every word
of the catalogue's vocabulary (RapidFuzz), then each procedure is scored by how
well its words cover the query, with a bonus for the exact phrase and for names
that say little else, so "dang ky khai sinh" puts "Đăng ký khai sinh" first and
"ly lich tu phap" finds the judicial-record certificate.
"""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz, process

from core.text import fold

MIN_SCORE = 60.0


@dataclass(frozen=True)
class SearchEntry:
    id: int
    code: str
    text: str  # folded name (and code)


class SearchIndex:
    def __init__(self, entries: list[SearchEntry]):
        self.entries = entries
        self._tokens = [frozenset(e.text.split()) for e in entries]
        self._vocabulary = sorted(set().union(*self._tokens)) if entries else []

    def _word_scores(self, word: str) -> dict[str, float]:
        cutoff = 50 if len(word) <= 2 else 75
        matches = process.extract(
            word, self._vocabulary, scorer=fuzz.ratio, score_cutoff=cutoff, limit=None
        )
        return {candidate: score for candidate, score, _ in matches}

    def search(self, query: str, limit: int = 20) -> list[tuple[int, float]]:
        """(entry id, score 0–120) best first; an empty query returns nothing."""
        folded = fold(query)
        words = folded.split()
        if not words:
            return []
        per_word = [self._word_scores(w) for w in words]
        scored: list[tuple[float, str, int]] = []
        for entry, tokens in zip(self.entries, self._tokens, strict=True):
            if entry.code.lower() == folded.replace(" ", "-") or entry.code.lower() == folded:
                scored.append((200.0, entry.code, entry.id))
                continue
            total, matched = 0.0, set()
            for scores in per_word:
                best_word, best = "", 0.0
                for token in tokens:
                    s = scores.get(token, 0.0)
                    if s > best:
                        best_word, best = token, s
                total += best
                if best:
                    matched.add(best_word)
            score = total / len(words)
            if score < MIN_SCORE:
                continue
            if f" {folded} " in f" {entry.text} ":
                score += 10.0
            score += 10.0 * len(matched) / len(tokens)
            scored.append((score, entry.code, entry.id))
        scored.sort(key=lambda item: (-item[0], item[1]))
        return [(entry_id, round(score, 1)) for score, _, entry_id in scored[:limit]]
