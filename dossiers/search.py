"""Procedure search that ignores diacritics and tolerates typos.

Pure Python over plain data (and NumPy for the sums). Each query word is compared once with every word
of the catalogue's vocabulary (RapidFuzz, in C), then each procedure is scored by how
well its words cover the query, with a bonus for the exact phrase and for names
that say little else, so "dang ky khai sinh" puts "Đăng ký khai sinh" first and
"ly lich tu phap" finds the judicial-record certificate.

Built once per catalogue version: the folded texts, their word sets, the vocabulary and, per entry,
the indexes of its words in one flat array (CSR layout). A query gives each vocabulary word its score
for each query word; an entry's best score per query word is a maximum over its slice of the flat
array (``np.maximum.reduceat``), so every entry is scored in a few vectorised passes and only those
above ``MIN_SCORE`` are looked at in Python (bench/bench_catalogue.py: 46 against 2,000 procedures).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
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
        self._vocabulary = sorted(set().union(*self._tokens)) if entries else []
        position = {word: i for i, word in enumerate(self._vocabulary)}
        # Entry e's words are self._flat[self._starts[e]:self._starts[e + 1]] (every entry has one at least).
        self._flat = np.fromiter((position[t] for tokens in self._tokens for t in tokens), dtype=np.int32)
        self._starts = np.cumsum([0] + [len(t) for t in self._tokens[:-1]], dtype=np.int64)
        # An entry's size for the "share of its words matched" term: its name's words, not its codes' parts
        # (a portal code "1.005461" is two tokens, "HN-HT-202" three: sizes with them favour the former).
        codes = [{w for c in (e.code, *e.codes) for w in fold(c).split()} for e in entries]
        self._sizes = np.array([max(1, len(t - c)) for t, c in zip(self._tokens, codes, strict=True)],
                               dtype=np.float64)
        self._row_of = np.repeat(np.arange(len(entries)), [len(t) for t in self._tokens])  # flat index → entry
        self._position = {word: i for i, word in enumerate(self._vocabulary)}
        # Words with a letter are matched fuzzily; numbers (the codes' parts) only exactly.
        self._wordy = [w for w in self._vocabulary if not w.isdigit()]
        self._padded = [f" {e.text} " for e in entries]
        self._by_code: dict[str, list[int]] = defaultdict(list)
        for index, entry in enumerate(entries):
            for code in {fold(c) for c in (entry.code, *entry.codes)}:
                self._by_code[code].append(index)

    def _word_scores(self, word: str) -> dict[str, float]:
        if word.isdigit():
            return {word: 100.0} if word in self._position else {}
        cutoff = 50 if len(word) <= 2 else 75
        matches = process.extract(
            word, self._wordy, scorer=fuzz.ratio, score_cutoff=cutoff, limit=None
        )
        return {candidate: score for candidate, score, _ in matches}

    def search(self, query: str, limit: int = 20) -> list[tuple[int, float]]:
        """(entry id, score 0–120; 200 for an exact code) best first; an empty query returns nothing."""
        folded = fold(query)
        words = folded.split()
        if not words or not self.entries:
            return []
        exact = self._by_code.get(folded, [])
        scored: list[tuple[float, str, int]] = [(200.0, self.entries[i].code, self.entries[i].id) for i in exact]
        count = len(self.entries)
        total = np.zeros(count)
        # best_words[i][e]: the vocabulary index of entry e's word that matched query word i best (-1: none);
        # the first such word in the entry's order, as a scan of its words would keep.
        best_words = []
        vocabulary_scores = np.zeros(len(self._vocabulary))
        for word in words:
            scores = self._word_scores(word)
            chosen = np.full(count, -1, dtype=np.int64)
            best_words.append(chosen)
            if not scores:
                continue
            vocabulary_scores[:] = 0.0
            vocabulary_scores[[self._position[w] for w in scores]] = list(scores.values())
            data = vocabulary_scores[self._flat]
            best = np.maximum.reduceat(data, self._starts)
            total += best
            hits = np.flatnonzero((data > 0) & (data == best[self._row_of]))
            rows = self._row_of[hits]
            first = np.ones(len(hits), dtype=bool)
            first[1:] = rows[1:] != rows[:-1]
            chosen[rows[first]] = self._flat[hits[first]]
        candidates = np.flatnonzero(total / len(words) >= MIN_SCORE)
        if exact:
            candidates = np.setdiff1d(candidates, exact)
        if len(candidates):
            # Distinct matched words per candidate: sort each column, count the changes (-1, no match, first).
            picked = np.sort(np.stack([chosen[candidates] for chosen in best_words]), axis=0)
            new = np.ones(picked.shape, dtype=bool)
            new[1:] = picked[1:] != picked[:-1]
            matched = ((picked >= 0) & new).sum(axis=0)
            base = total[candidates] / len(words) + 10.0 * matched / self._sizes[candidates]
            phrase = f" {folded} "
            for index, score in zip(candidates.tolist(), base.tolist(), strict=True):
                if phrase in self._padded[index]:
                    score += 10.0
                entry = self.entries[index]
                scored.append((score, entry.code, entry.id))
        scored.sort(key=lambda item: (-item[0], item[1]))
        return [(entry_id, round(score, 1)) for score, _, entry_id in scored[:limit]]
