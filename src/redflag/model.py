"""TF-IDF + one logistic regression per label, stored in a pickle-free file.

Training uses scikit-learn (``TfidfVectorizer`` over the features of
:mod:`redflag.features`, one ``LogisticRegression`` per label). Scoring does not call
scikit-learn: the fitted vocabulary, idf and coefficients are plain arrays, and a message's
score is a sparse dot product against them, which is what ``predict_proba`` computes without
its per-call validation. ``tests/test_model.py`` checks the two agree.

The model file is a NumPy ``.npz`` archive read with ``allow_pickle=False``: loading one cannot
run code. It holds the arrays, the rules the model was trained with, and a JSON header (labels,
thresholds, feature configuration, versions, training-data hash, validation metrics).
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import zipfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .encode import Encoder
from .features import Analysis, FeatureConfig, feature_texts
from .labels import LABELS

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "LinearModel",
    "ModelFormatError",
    "read_recorded_hash",
    "recorded_hash_path",
    "sha256_file",
]

#: ``1 + log(count)`` by count (index 0 unused): the sublinear term frequency of tf-idf.
_SUBLINEAR = np.concatenate([[1.0], 1.0 + np.log(np.arange(1, 4096, dtype=np.float64))])

FORMAT = "redflag-model"
FORMAT_VERSION = 1


class ModelFormatError(ValueError):
    """A file is not a redflag model, is damaged, or does not match its recorded hash."""


def recorded_hash_path(path: str | Path) -> Path:
    """Where the SHA-256 recorded when a model file was written is kept: ``PATH.sha256``."""
    p = Path(path)
    return p.with_name(p.name + ".sha256")


def read_recorded_hash(path: str | Path) -> str | None:
    """The SHA-256 recorded beside a model file, or None when there is none."""
    side = recorded_hash_path(path)
    if not side.is_file():
        return None
    words = side.read_text(encoding="ascii", errors="replace").split()
    if not words or len(words[0]) != 64:
        raise ModelFormatError(f"{side}: not a SHA-256 record (expected 64 hex digits, then the file name)")
    return words[0].lower()


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@dataclass
class LinearModel:
    """Vocabulary, idf and per-label coefficients, with thresholds and metadata."""

    vocabulary: dict[str, int]
    idf: np.ndarray  # (n_features,)
    coef: np.ndarray  # (n_features, n_labels)
    intercept: np.ndarray  # (n_labels,)
    thresholds: dict[str, float]
    config: FeatureConfig
    rules_toml: str
    labels: tuple[str, ...] = LABELS
    meta: dict[str, Any] = field(default_factory=dict)
    #: Multiplies a label's probability when the message has none of the label's vocabulary
    #: (the rule file's [anchors]); see :func:`combine`.
    unanchored_factor: float = 0.1
    _words: list[str] | None = field(default=None, init=False, repr=False, compare=False)
    _factors: dict[frozenset[str], np.ndarray] = field(default_factory=dict, init=False, repr=False, compare=False)
    _table: np.ndarray | None = field(default=None, init=False, repr=False, compare=False)
    _encoder: Encoder | None = field(default=None, init=False, repr=False, compare=False)
    _intercept_list: list[float] | None = field(default=None, init=False, repr=False, compare=False)
    _weight_table: np.ndarray | None = field(default=None, init=False, repr=False, compare=False)
    _kinds: tuple[dict[str, int], dict[str, int], dict[str, int]] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    # ----------------------------------------------------------- vectors

    def vector(self, features: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Indices and l2-normalized sublinear tf-idf weights of one message's features."""
        # Counter counts in C; unknown features all land on the key None, dropped after.
        counts = Counter(map(self.vocabulary.get, features))
        counts.pop(None, None)  # type: ignore[call-overload]
        if not counts:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)
        idx = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
        tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
        w = (1.0 + np.log(tf)) * self.idf[idx]
        norm = math.sqrt(float(w @ w))
        return idx, (w / norm if norm else w)

    def matrix(self, feature_lists: Sequence[Sequence[str]]) -> Any:
        """The tf-idf rows of many messages as a ``scipy.sparse.csr_matrix`` (for training and analysis)."""
        # Imported here: scoring does not need scipy, and importing it costs a worker process about 20 MB.
        from scipy import sparse

        indptr = [0]
        indices: list[np.ndarray] = []
        data: list[np.ndarray] = []
        for feats in feature_lists:
            idx, w = self.vector(feats)
            indices.append(idx)
            data.append(w)
            indptr.append(indptr[-1] + len(idx))
        return sparse.csr_matrix(
            (
                np.concatenate(data) if data else np.empty(0),
                np.concatenate(indices) if indices else np.empty(0, dtype=np.int64),
                np.asarray(indptr),
            ),
            shape=(len(feature_lists), len(self.idf)),
        )

    # ----------------------------------------------------------- scores

    def proba_one(self, features: Sequence[str]) -> np.ndarray:
        """Per-label probabilities for one message, from its features' names.

        ``sigmoid(vector @ coef + intercept)`` with the l2-normalized sublinear tf-idf vector, in
        a few array operations: one gather from a table of ``idf**2`` and ``idf * coef`` and one
        sum over its rows give both the squared norm of the vector and the dot products. The
        sums run over the features in the order of their indices, one after another, as
        :meth:`proba_pairs` adds them for a batch: a message gets the same bits alone and in a batch.
        """
        return self._proba_counts(Counter(map(self.vocabulary.get, features)))

    def proba_analysis(self, analysis: Analysis) -> np.ndarray:
        """:meth:`proba_one` of an analysis's features, with the same bits, without naming them.

        A message's word, bigram and character features are looked up by their own text in one
        table per kind (``連絡`` in the words, ``らい`` in the n-grams), so the prefixed
        ``w:``/``b:``/``c:`` names are never built. Messages whose features are not their plain
        words and characters (an allow-list, a refusal) go by name. The tables are made on first
        use (some 30 MB for the default model): scoring a batch does not need them, see
        :meth:`proba_analyses`.
        """
        if analysis.given is not None:
            return self.proba_one(analysis.features)
        words_of, bigrams_of, grams_of = self._by_kind
        words, bigrams, grams = feature_texts(analysis.normalized.text, analysis.words, self.config)
        found = list(map(words_of.get, words))
        found += map(bigrams_of.get, bigrams)
        found += map(grams_of.get, grams)
        found += map(self.vocabulary.get, analysis.extra)
        return self._proba_counts(Counter(found))

    def _proba_counts(self, counts: Counter[int | None]) -> np.ndarray:
        counts.pop(None, None)
        if not counts:
            return self._finish_one([0.0] * (1 + len(self.labels)))
        order = sorted(counts)  # type: ignore[type-var]
        rows = self.table.take(np.array(order, dtype=np.intp), axis=0)
        tf = list(map(counts.__getitem__, order))
        top = max(tf)
        if top > 1:  # a weight of 1 leaves a row as it is, exactly, as in proba_pairs
            # rows is take's own copy. The weights by count are rows of one table made once: the
            # same numbers as _tf_weights, without building them anew for every message.
            if top < len(_SUBLINEAR):
                rows *= self._weights_by_count.take(tf, axis=0)
            else:
                rows *= self._tf_weights(np.array(tf, dtype=np.int64))
        # Reduced along the rows of a C-ordered array, numpy adds row after row (no pairwise
        # summation), which is what bincount does in proba_pairs.
        return self._finish_one(np.add.reduce(rows, axis=0).tolist())

    def proba_pairs(self, messages: np.ndarray, features: np.ndarray, n: int) -> np.ndarray:
        """Per-label probabilities of ``n`` messages from ``(message, feature index)`` pairs, one
        pair per occurrence, in any order (what :meth:`Encoder.pairs <redflag.encode.Encoder.pairs>`
        gives). The same bits per message as :meth:`proba_one`."""
        out_width = 1 + len(self.labels)
        if not len(messages):
            return self._finish(np.zeros((n, out_width)))
        size = len(self.idf)
        # Sorted by message, then feature index: the order proba_one adds in. The pairs come in
        # runs ordered by message, which numpy's stable sort (a merge sort that finds runs) takes
        # several times faster than the default quicksort.
        keys = messages.astype(np.int64) * size + features
        keys.sort(kind="stable")
        starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
        tf = np.diff(np.append(starts, len(keys)))
        keys = keys[starts]
        owner = keys // size
        rows = self.table.take(keys - owner * size, axis=0)
        if tf.max() > 1:
            rows = rows * self._tf_weights(tf)
        sums = np.empty((n, out_width))
        for j in range(out_width):  # bincount adds each message's rows one after another, in order
            sums[:, j] = np.bincount(owner, weights=rows[:, j], minlength=n)
        return self._finish(sums)

    def proba_analyses(self, analyses: Sequence[Analysis]) -> np.ndarray:
        """Per-label probabilities of analyzed messages, shape ``(n_messages, n_labels)``; the
        same bits as :meth:`proba_one` of each one's features, without naming the features."""
        messages, features = self.encoder.pairs(analyses)
        return self.proba_pairs(messages, features, len(analyses))

    def proba(self, feature_lists: Sequence[Sequence[str]]) -> np.ndarray:
        """Per-label probabilities from features' names, shape ``(n_messages, n_labels)``."""
        get = self.vocabulary.get
        pairs = [(i, j) for i, feats in enumerate(feature_lists) for j in map(get, feats) if j is not None]
        arr = np.array(pairs, dtype=np.int64).reshape(-1, 2)
        return self.proba_pairs(arr[:, 0], arr[:, 1], len(feature_lists))

    @property
    def encoder(self) -> Encoder:
        """Lookup tables for :meth:`proba_analyses` (made on first use: a batch needs them, one message does not)."""
        if self._encoder is None:
            self._encoder = Encoder(self.vocabulary, self.config)
        return self._encoder

    def _tf_weights(self, tf: np.ndarray) -> np.ndarray:
        """Row weights ``[t**2, t, ..., t]`` for the sublinear term frequencies ``t = 1 + log(count)``.

        Taken from one table (and math.log past it), never computed anew per call, so that a count
        gets the same weight in any batch.
        """
        if tf.max() < len(_SUBLINEAR):  # nearly always: the table alone
            t = _SUBLINEAR[tf]
        else:
            small = tf < len(_SUBLINEAR)
            t = _SUBLINEAR[np.where(small, tf, 0)]
            t[~small] = [1.0 + math.log(c) for c in tf[~small].tolist()]
        weights = np.empty((len(tf), 1 + len(self.labels)))
        weights[:, 0] = t * t
        weights[:, 1:] = t[:, None]
        return weights

    @property
    def _weights_by_count(self) -> np.ndarray:
        """:meth:`_tf_weights` of every count the table of sublinear frequencies holds, by count."""
        if self._weight_table is None:
            self._weight_table = self._tf_weights(np.arange(len(_SUBLINEAR)))
        return self._weight_table

    def _finish(self, sums: np.ndarray) -> np.ndarray:
        """``sigmoid(intercept + dots / norm)`` from rows of ``[squared norm, dots...]``."""
        norm = np.sqrt(sums[:, 0])
        scale = np.divide(1.0, norm, out=np.ones_like(norm), where=norm > 0)
        z = np.clip(self.intercept + sums[:, 1:] * scale[:, None], -40.0, 40.0).ravel().tolist()
        # Element by element with math.exp: numpy's vectorized exp may round the last bit
        # differently for an array of one message and one of many.
        exp = math.exp
        flat = [1.0 / (1.0 + exp(-v)) for v in z]
        return np.array(flat).reshape(len(sums), len(self.labels))

    def _finish_one(self, sums: list[float]) -> np.ndarray:
        """:meth:`_finish` of one row, in Python floats: for five labels, cheaper than the array
        operations, and the same IEEE operations (square root, division, product, sum), so the
        same bits."""
        norm = math.sqrt(sums[0])
        scale = 1.0 / norm if norm > 0 else 1.0
        exp = math.exp
        return np.array(
            [1.0 / (1.0 + exp(-min(40.0, max(-40.0, x + d * scale)))) for x, d in zip(self._intercept, sums[1:])]
        )

    @property
    def _intercept(self) -> list[float]:
        if self._intercept_list is None:
            self._intercept_list = self.intercept.tolist()
        return self._intercept_list

    @property
    def _by_kind(self) -> tuple[dict[str, int], dict[str, int], dict[str, int]]:
        """Word, bigram and character n-gram features by their text, without the prefix."""
        if self._kinds is None:
            kinds: dict[str, dict[str, int]] = {"w": {}, "b": {}, "c": {}}
            for name, index in self.vocabulary.items():
                kind, _, value = name.partition(":")
                table = kinds.get(kind)
                if table is not None:
                    table[value] = index
            self._kinds = (kinds["w"], kinds["b"], kinds["c"])
        return self._kinds

    @property
    def table(self) -> np.ndarray:
        """``[idf**2, idf * coef]`` per feature, shape ``(n_features, 1 + n_labels)`` (made on first use)."""
        if self._table is None:
            idf = self.idf.astype(np.float64)
            self._table = np.column_stack([idf * idf, idf[:, None] * self.coef.astype(np.float64)])
        return self._table

    def combine(self, probs: np.ndarray, anchored: frozenset[str]) -> np.ndarray:
        """Final per-label scores: the probability, discounted where the label is unanchored."""
        factors = self._factors.get(anchored)
        if factors is None:  # one array per set of anchored labels, made once
            factors = np.array([1.0 if label in anchored else self.unanchored_factor for label in self.labels])
            self._factors[anchored] = factors
        return probs * factors

    def contributions(self, features: Sequence[str], label: str) -> list[tuple[str, float]]:
        """Features that pushed ``label`` up, strongest first: ``(feature, weight * coef)``."""
        j = self.labels.index(label)
        idx, w = self.vector(features)
        contrib = w * self.coef[idx, j]
        words = self.words
        order = np.argsort(-contrib, kind="stable")
        return [(words[int(idx[k])], float(contrib[k])) for k in order if contrib[k] > 0]

    @property
    def words(self) -> list[str]:
        """Feature names by index (built on first use)."""
        if self._words is None:
            words = [""] * len(self.vocabulary)
            for f, i in self.vocabulary.items():
                words[i] = f
            self._words = words
        return self._words

    # ----------------------------------------------------------- files

    def save(self, path: str | Path, *, record: bool = True) -> str:
        """Write the model; returns the SHA-256 of the file written.

        With ``record`` the hash is also written beside it (``PATH.sha256``), which is what lets
        :meth:`redflag.Scorer.load` open the file later without ``trust=True``.
        """
        header = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "labels": list(self.labels),
            "thresholds": self.thresholds,
            "unanchored_factor": self.unanchored_factor,
            "config": asdict(self.config),
            "meta": self.meta,
        }
        if self.config.word_clusters:
            header["word_clusters_sha256"] = _cluster_table_sha256()
        arrays = {
            "header": _bytes(json.dumps(header, ensure_ascii=False, sort_keys=True)),
            "vocabulary": _bytes(json.dumps(self.words, ensure_ascii=False)),
            "rules": _bytes(self.rules_toml),
            "idf": self.idf.astype(np.float32),
            "coef": self.coef.astype(np.float32),
            "intercept": self.intercept.astype(np.float64),
        }
        # Written by hand rather than with np.savez so that entry dates are fixed and the same
        # model gives the same bytes (and the same SHA-256) on every run.
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for name, arr in arrays.items():
                info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                member = io.BytesIO()
                np.lib.format.write_array(member, np.ascontiguousarray(arr), allow_pickle=False)
                zf.writestr(info, member.getvalue())
        Path(path).write_bytes(buf.getvalue())
        digest = sha256_file(path)
        if record:
            recorded_hash_path(path).write_text(f"{digest}  {Path(path).name}\n", encoding="ascii")
        return digest

    @staticmethod
    def check_file(path: str | Path, *, sha256: str | None = None) -> dict[str, Any]:
        """Check a model file without loading it; returns its header.

        The same checks :meth:`load` makes before it reads the arrays (the file exists, has
        ``sha256`` if given, is an archive of this format and version with every entry a model
        has), plus the archive's checksums. A process that hands the scoring to workers checks
        the file this way, so that a bad model fails at once without the memory of a loaded copy.
        """
        p = Path(path)
        header = _read_header(p, sha256)
        with zipfile.ZipFile(p) as zf:
            names = set(zf.namelist())
            missing = sorted(f"{k}.npy" for k in _ENTRIES if f"{k}.npy" not in names)
            if missing:
                raise ModelFormatError(f"{p}: damaged or incomplete model file (missing {', '.join(missing)})")
            bad = zf.testzip()
        if bad is not None:
            raise ModelFormatError(f"{p}: damaged model file (entry {bad} fails its checksum)")
        return header

    @classmethod
    def load(cls, path: str | Path, *, sha256: str | None = None) -> LinearModel:
        """Read a model file; with ``sha256``, refuse it unless the file has exactly that hash."""
        p = Path(path)
        header = _read_header(p, sha256)
        try:
            with np.load(p, allow_pickle=False) as z:
                words = json.loads(_text(z["vocabulary"]))
                model = cls(
                    vocabulary=dict(zip(words, range(len(words)))),
                    # Kept as stored (float32): scoring reads the float64 table made from them
                    # (see table), and other arithmetic with them is float64 all the same (numpy
                    # widens them exactly); a float64 copy here would only add memory.
                    idf=z["idf"],
                    coef=z["coef"],
                    intercept=z["intercept"].astype(np.float64),
                    thresholds={k: float(v) for k, v in header["thresholds"].items()},
                    config=_config(header["config"]),
                    rules_toml=_text(z["rules"]),
                    labels=tuple(header["labels"]),
                    meta=header.get("meta", {}),
                    unanchored_factor=float(header["unanchored_factor"]),
                )
        except ModelFormatError:
            raise
        except (KeyError, ValueError, OSError, zipfile.BadZipFile) as exc:
            raise ModelFormatError(f"{p}: damaged or incomplete model file ({exc})") from exc
        model._check(p)
        if model.config.word_clusters:
            # The v: features are numbered by the table the model was trained with; another
            # table would give the same numbers to other words.
            recorded, have = header.get("word_clusters_sha256"), _cluster_table_sha256()
            if recorded != have:
                raise ModelFormatError(
                    f"{p}: trained with the word-cluster table {recorded or '(not recorded)'}, but this "
                    f"redflag has {have}; retrain the model with `redflag train`"
                )
        return model

    def _check(self, where: object) -> None:
        n = len(self.vocabulary)
        if (
            self.idf.shape != (n,)
            or self.coef.shape != (n, len(self.labels))
            or self.intercept.shape != (len(self.labels),)
        ):
            raise ModelFormatError(f"{where}: array shapes do not agree with the vocabulary")
        if set(self.thresholds) != set(self.labels):
            raise ModelFormatError(f"{where}: thresholds do not cover the labels {self.labels}")


#: The entries of a model archive (each ``NAME.npy``).
_ENTRIES = ("header", "vocabulary", "rules", "idf", "coef", "intercept")


def _read_header(p: Path, sha256: str | None) -> dict[str, Any]:
    """Check that ``p`` is a model file of this format (and has ``sha256``); return its header."""
    if p.is_dir():
        raise ModelFormatError(f"{p}: is a directory, not a model file")
    if not p.exists():
        raise ModelFormatError(f"{p}: no such model file")
    if sha256 is not None:
        actual = sha256_file(p)
        if actual != sha256:
            raise ModelFormatError(
                f"{p}: SHA-256 {actual} does not match the recorded {sha256}; "
                "the file was changed or damaged. Reinstall redflag or retrain the model."
            )
    if not zipfile.is_zipfile(p):
        raise ModelFormatError(
            f"{p}: not a redflag model (expected a .npz archive written by `redflag train`; "
            "pickle/joblib files are never loaded)"
        )
    try:
        with np.load(p, allow_pickle=False) as z:
            header: dict[str, Any] = json.loads(_text(z["header"]))
    except (KeyError, ValueError, OSError, zipfile.BadZipFile) as exc:
        raise ModelFormatError(f"{p}: damaged or incomplete model file ({exc})") from exc
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        found = header.get("format") if isinstance(header, dict) else header
        raise ModelFormatError(f"{p}: format {found!r} is not {FORMAT!r}")
    if header.get("format_version") != FORMAT_VERSION:
        raise ModelFormatError(
            f"{p}: model format version {header.get('format_version')} is not supported "
            f"(this redflag reads version {FORMAT_VERSION}); retrain with `redflag train`"
        )
    return header


def _cluster_table_sha256() -> str:
    from .clusters import default_word_clusters

    return default_word_clusters().sha256


def _bytes(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-8"), dtype=np.uint8)


def _text(arr: np.ndarray) -> str:
    return arr.tobytes().decode("utf-8")


def _config(d: dict[str, Any]) -> FeatureConfig:
    return FeatureConfig(
        char_ngrams=tuple(d["char_ngrams"]),  # type: ignore[arg-type]
        word_bigrams=bool(d["word_bigrams"]),
        rule_features=bool(d["rule_features"]),
        negation_scope=bool(d.get("negation_scope", False)),
        context_features=bool(d.get("context_features", False)),
        concept_pairs=bool(d.get("concept_pairs", False)),
        word_clusters=bool(d.get("word_clusters", False)),
        normalize_steps=tuple(d["normalize_steps"]),
        tokenizer_args=str(d["tokenizer_args"]),
    )
