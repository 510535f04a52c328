"""A batch of analyses to the model's feature indices, without the features' names.

:attr:`Analysis.features <redflag.features.Analysis.features>` names every feature of a
message (``w:連絡``, ``b:LINE で``, ``c:らい``...): some seventy strings for a one-line message,
each built and then looked up in the vocabulary. For a batch that is most of the time spent
beside MeCab. :class:`Encoder` finds the same indices with a few array operations over the
whole batch: a word is looked up once (as a number it is then also the half of a bigram), and
character n-grams are codes (21 bits a character) found in sorted arrays of the vocabulary's
n-grams. Messages whose features are not their plain words and characters (an allow-list, a
refusal) and the few rule, concept and context features go through the vocabulary by name.

``tests/test_encode.py`` checks that the indices are those of the names, message by message.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from .features import Analysis, FeatureConfig, char_view

__all__ = ["Encoder"]

# Bits a character takes in an n-gram code: every code point fits in 21 bits, so a code of
# up to three characters fits in an unsigned 64-bit integer.
_BITS = 21
_MAX_CODED = 3
# Characters encoded together at most (a message longer than this goes alone).
_SLICE = 1 << 20


class Encoder:
    """Lookup tables made once from a model's vocabulary (see the module's docstring)."""

    def __init__(self, vocabulary: Mapping[str, int], config: FeatureConfig) -> None:
        self.vocabulary = vocabulary
        self.config = config
        lo, hi = config.char_ngrams
        #: Whether n-grams fit in a code; a model with longer ones is encoded by name throughout.
        self.fast = hi <= _MAX_CODED
        self.coded = range(lo, hi + 1) if hi and self.fast else range(0)
        words: dict[str, int] = {}
        unigram: list[tuple[str, int]] = []
        bigram: list[tuple[str, str, int]] = []
        grams: dict[int, tuple[list[int], list[int]]] = {k: ([], []) for k in self.coded}
        for name, index in vocabulary.items():
            kind, _, value = name.partition(":")
            if kind == "w":
                words.setdefault(value, len(words))
                unigram.append((value, index))
            elif kind == "b":
                first, _, second = value.partition(" ")
                words.setdefault(first, len(words))
                words.setdefault(second, len(words))
                bigram.append((first, second, index))
            elif kind == "c" and len(value) in grams:
                codes, indices = grams[len(value)]
                codes.append(_code(value))
                indices.append(index)
        #: Word -> its number among the words of the vocabulary's ``w:`` and ``b:`` features.
        self.words = words
        self._n_words = len(words) + 1
        #: Word number -> index of its ``w:`` feature (-1: the word occurs only in bigrams).
        self._unigram = np.full(self._n_words, -1, dtype=np.int64)
        for value, index in unigram:
            self._unigram[words[value]] = index
        self._bigram = _sorted_table(
            [words[a] * self._n_words + words[b] for a, b, _ in bigram], [i for _, _, i in bigram], np.int64
        )
        self._grams = {k: _sorted_table(codes, indices, np.uint64) for k, (codes, indices) in grams.items()}

    def pairs(self, analyses: Sequence[Analysis]) -> tuple[np.ndarray, np.ndarray]:
        """``(message, feature index)`` for every feature occurrence of every analysis known to the
        vocabulary (a feature that occurs twice gives two pairs), in no particular order."""
        messages: list[np.ndarray] = []
        features: list[np.ndarray] = []
        by_name: list[tuple[int, int]] = []
        get = self.vocabulary.get
        plain: list[int] = []
        for i, a in enumerate(analyses):
            fast = self.fast and a.given is None
            if fast:
                plain.append(i)
            for name in a.extra if fast else a.features:
                index = get(name)
                if index is not None:
                    by_name.append((i, index))
        if by_name:
            arr = np.array(by_name, dtype=np.int64)
            messages.append(arr[:, 0])
            features.append(arr[:, 1])
        if plain:
            chosen, owners = [analyses[i] for i in plain], np.array(plain, dtype=np.int64)
            self._words_and_bigrams(chosen, owners, messages, features)
            if len(self.coded):
                self._characters(chosen, owners, messages, features)
        if not messages:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
        return np.concatenate(messages), np.concatenate(features)

    def _words_and_bigrams(
        self, analyses: list[Analysis], which: np.ndarray, messages: list[np.ndarray], features: list[np.ndarray]
    ) -> None:
        get = self.words.get
        # A number is its length (#4), as in fold_numbers; -1 for a word the vocabulary lacks.
        ids = np.array(
            [get("#" + str(len(w)) if w.isdigit() else w, -1) for a in analyses for w in a.words], dtype=np.int64
        )
        if not len(ids):
            return
        owner = np.repeat(which, [len(a.words) for a in analyses])
        known = ids >= 0
        unigram = np.where(known, self._unigram[np.where(known, ids, 0)], -1)
        keep = unigram >= 0
        messages.append(owner[keep])
        features.append(unigram[keep])
        if not self.config.word_bigrams or len(ids) < 2:
            return
        both = known[:-1] & known[1:] & (owner[:-1] == owner[1:])
        keys = ids[:-1][both] * self._n_words + ids[1:][both]
        found, index = _lookup(self._bigram, keys)
        messages.append(owner[:-1][both][found])
        features.append(index[found])

    def _characters(
        self, analyses: list[Analysis], which: np.ndarray, messages: list[np.ndarray], features: list[np.ndarray]
    ) -> None:
        views = [char_view(a.normalized.text) for a in analyses]
        # A few arrays of 8 bytes per character are made at once: a batch of long messages goes
        # in slices of about a million characters, so that memory stays bounded.
        start = total = 0
        for end, view in enumerate(views, 1):
            total += len(view)
            if total >= _SLICE or end == len(views):
                self._slice(views[start:end], which[start:end], messages, features)
                start, total = end, 0

    def _slice(
        self, views: list[str], which: np.ndarray, messages: list[np.ndarray], features: list[np.ndarray]
    ) -> None:
        # Lone surrogates (kept by normalization, replaced only for MeCab) encode as themselves.
        points = np.frombuffer("".join(views).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        if not len(points):
            return
        points = points.astype(np.uint64)
        owner = np.repeat(which, [len(v) for v in views])
        for k in self.coded:
            if len(points) < k:
                continue
            n = len(points) - k + 1
            codes = points[:n].copy()
            for j in range(1, k):
                codes <<= np.uint64(_BITS)
                codes |= points[j : j + n]
            # An n-gram counts only inside one message: its first and last characters share an owner.
            inside = owner[:n] == owner[k - 1 :]
            found, index = _lookup(self._grams[k], codes)
            found &= inside
            messages.append(owner[:n][found])
            features.append(index[found])


def _code(gram: str) -> int:
    code = 0
    for ch in gram:
        code = (code << _BITS) | ord(ch)
    return code


def _sorted_table(keys: list[int], indices: list[int], dtype: type) -> tuple[np.ndarray, np.ndarray]:
    k = np.array(keys, dtype=dtype)
    order = np.argsort(k, kind="stable")
    return k[order], np.array(indices, dtype=np.int64)[order]


def _lookup(table: tuple[np.ndarray, np.ndarray], keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which ``keys`` the sorted table has, and their feature indices (meaningless where not found)."""
    sorted_keys, indices = table
    if not len(sorted_keys):
        return np.zeros(len(keys), dtype=bool), np.zeros(len(keys), dtype=np.int64)
    pos = np.searchsorted(sorted_keys, keys)
    pos[pos == len(sorted_keys)] = 0
    return sorted_keys[pos] == keys, indices[pos]
