"""Word clusters: groups of words used alike, from pretrained word vectors.

A word the training corpus never had still falls in a cluster it had: メール, Gmail and
アドレス share one, 口座, 送金, 入金 and 後払い another, LINE and Slack a third. The model sees
a message's clusters as ``v:`` features beside its words, so what it learned of a word carries
over to the other words of its cluster. The packaged table (``data/word_clusters.tsv.gz``)
groups the chiVe vectors that GiNZA ships (see ``data/word_clusters.py`` in the repository for
how it is built); a model records the table's SHA-256 and refuses to score with any other.
"""

from __future__ import annotations

import gzip
import hashlib
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

__all__ = ["WordClusters", "default_word_clusters"]

_DEFAULT = "word_clusters.tsv.gz"


class WordClusters:
    """A word -> cluster table read from ``word<TAB>cluster`` lines (gzip; a line with no tab that
    starts with ``#`` is a comment)."""

    def __init__(self, table: dict[str, int], *, sha256: str, source: str = "") -> None:
        self.table = table
        self.sha256 = sha256
        self.source = source
        self._names: list[str] | None = None

    @classmethod
    def read(cls, path: str | Path) -> WordClusters:
        p = Path(path)
        raw = p.read_bytes()
        table: dict[str, int] = {}
        for number, line in enumerate(gzip.decompress(raw).decode("utf-8").splitlines(), 1):
            word, tab, cluster = line.rpartition("\t")
            if not line or (not tab and line.startswith("#")):  # a comment has no tab; words may start with #
                continue
            if not tab or not word or not cluster.isdigit():
                raise ValueError(f"{p}, line {number}: expected word<TAB>cluster number, got {line[:60]!r}")
            table[word] = int(cluster)
        return cls(table, sha256=hashlib.sha256(raw).hexdigest(), source=str(p))

    def cluster(self, word: str) -> int | None:
        """The cluster of a word as MeCab cut it, or of its lower case (``LINE`` -> ``line``)."""
        c = self.table.get(word)
        if c is None:
            lower = word.lower()
            if lower != word:
                c = self.table.get(lower)
        return c

    def features(self, words: tuple[str, ...] | list[str]) -> list[str]:
        """``v:N`` for each word that has a cluster, in order."""
        if self._names is None:
            self._names = [f"v:{c}" for c in range(max(self.table.values(), default=-1) + 1)]
        names, get = self._names, self.table.get
        out = []
        for word in words:
            c = get(word)
            if c is None:
                # Normalized text is in lower case already; this is for words from elsewhere.
                lower = word.lower()
                if lower == word or (c := get(lower)) is None:
                    continue
            out.append(names[c])
        return out

    def __len__(self) -> int:
        return len(self.table)

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled by reference to the packaged table: an Analyzer sent to a worker process does
        # not carry half a million words with it.
        if self.source == str(_default_path()):
            return (default_word_clusters, ())
        if self.source:
            return (WordClusters.read, (self.source,))
        return (_from_table, (self.table, self.sha256))  # made in memory: pickled whole


def _from_table(table: dict[str, int], sha256: str) -> WordClusters:
    return WordClusters(table, sha256=sha256)


def _default_path() -> Path:
    return Path(str(resources.files("redflag") / "data" / _DEFAULT))


@lru_cache(maxsize=1)
def default_word_clusters() -> WordClusters:
    """The packaged table, read once per process."""
    return WordClusters.read(_default_path())
