"""Procedure search that ignores diacritics and tolerates typos.

Pure Python over plain data. Each query word is compared once with every word
of the catalogue's vocabulary (RapidFuzz, in C), then each procedure is scored by how
well its words cover the query, with a bonus for the exact phrase and for names
that say little else, so "dang ky khai sinh" puts "Đăng ký khai sinh" first and
"ly lich tu phap" finds the judicial-record certificate.

Built once per catalogue version: the folded texts, their word sets, the vocabulary and an
inverted index (word → entries that contain it). A query then only scores the entries that
share a close word with it, so its cost follows the matches, not the catalogue's size
(bench/bench_catalogue.py: 46 against 2,000 procedures).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from core.text import fold

MIN_SCORE = 60.0


@dataclass(frozen=True)
class SearchEntry:
    id: int
    code: str
    text: str  # folded name (and code)
    codes: tuple[str, ...] = ()  # codes that find the entry exactly (the platform's, the portal's)


class SearchIndex:
    def __init__(self, entries: list[SearchEntry]):
        self.entries = entries
        self._tokens = [frozenset(e.text.split()) for e in entries]
        postings: dict[str, list[int]] = defaultdict(list)
        for position, tokens in enumerate(self._tokens):
            for token in tokens:
                postings[token].append(position)
        self._postings = dict(postings)
        self._vocabulary = sorted(self._postings)
        self._padded = [f" {e.text} " for e in entries]
        self._by_code: dict[str, list[int]] = defaultdict(list)
        for position, entry in enumerate(entries):
            for code in {fold(c) for c in (entry.code, *entry.codes)}:
                self._by_code[code].append(position)

    def _word_scores(self, word: str) -> dict[str, float]:
        cutoff = 50 if len(word) <= 2 else 75
        matches = process.extract(
            word, self._vocabulary, scorer=fuzz.ratio, score_cutoff=cutoff, limit=None
        )
        return {candidate: score for candidate, score, _ in matches}

    def search(self, query: str, limit: int = 20) -> list[tuple[int, float]]:
        """(entry id, score 0–120; 200 for an exact code) best first; an empty query returns nothing."""
        folded = fold(query)
        words = folded.split()
        if not words:
            return []
        exact = self._by_code.get(folded, [])
        scored: list[tuple[float, str, int]] = [(200.0, self.entries[i].code, self.entries[i].id) for i in exact]
        # best[entry position][word index] = (score, the entry's word that gave it)
        best: dict[int, list[tuple[float, str]]] = {}
        none = (0.0, "")
        for index, word in enumerate(words):
            for token, score in self._word_scores(word).items():
                for position in self._postings[token]:
                    row = best.get(position)
                    if row is None:
                        row = best[position] = [none] * len(words)
                    if score > row[index][0]:
                        row[index] = (score, token)
        skip = set(exact)
        phrase = f" {folded} "
        for position, row in best.items():
            if position in skip:
                continue
            score = sum(s for s, _ in row) / len(words)
            if score < MIN_SCORE:
                continue
            if phrase in self._padded[position]:
                score += 10.0
            matched = {token for s, token in row if s}
            score += 10.0 * len(matched) / len(self._tokens[position])
            entry = self.entries[position]
            scored.append((score, entry.code, entry.id))
        scored.sort(key=lambda item: (-item[0], item[1]))
        return [(entry_id, round(score, 1)) for score, _, entry_id in scored[:limit]]
