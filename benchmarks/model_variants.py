"""Compare the shipped model's design with five alternatives on the same folds and real chat.

    python benchmarks/model_variants.py [DATA.jsonl] [--variants sentence-max,risk-head,dense,stacked,mlp]
        [--beta 0.9,1.0,1.1,1.2] [--holdout 152-162] [--writers 29] [--wheel ja_ginza-5.3.0-py3-none-any.whl]
        [--shared ../shared] [--save SCORES.npz]

The shipped design: one tf-idf + logistic regression per label over the whole message, the
label's probability discounted where none of its anchor words occurs, a threshold per label
chosen for F-beta out of fold. The alternatives, each measured against it in the same run:

``sentence-max``
    each label's score is the highest of the whole message's and each of its sentences' (split
    after 。！？!? and line breaks), scored by the same fold model, so that one risky sentence in
    a long message is not diluted by the rest;
``risk-head``
    a sixth regression learns "any label" (discounted when no label is anchored); where no label
    reaches its threshold but the head reaches its own (F-beta ``--head-beta`` out of fold), the
    label nearest its threshold is given, if its score is at least ``--gate`` times that threshold;
``dense``
    the mean of the message's unit chiVe word vectors (the vectors the word clusters are made
    from, read from the ja_ginza wheel as data/word_clusters.py does; needs msgpack) as 300 more
    columns beside the tf-idf ones. This trains every fold twice and takes about twice as long.
``stacked``
    a second stage: per label, gradient-boosted trees (scikit-learn's
    HistGradientBoostingClassifier) over the six out-of-fold scores of the shipped design (the
    five labels and "any"), trained and scored out of fold on the same folds, so that one
    label's score can use the others';
``mlp``
    one network for all five labels instead of five regressions: the tf-idf columns (words in
    at least 10 messages), one hidden layer of 64 ReLU units, a sigmoid per label, six epochs of
    Adam (scikit-learn's MLPClassifier), the same weights and anchor discount. About 25 minutes
    on two cores.

Figures: out of fold on the rows of writers w1..w``--writers`` (macro-F1 / any-risk recall /
safe FPR), and the number of the 408,619 RealPersonaChat messages flagged by the model trained
on all of DATA, for each uniform F-beta. These are scored as training scores, without the
generic platform rule the Scorer adds, which flags few more. With ``--holdout LO-HI`` the files of
writers wLO..wHI are left out of training and scored as writers the model has not seen.
Nothing here reads the shared dev set.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning

from redflag.dataset import Example, load_examples
from redflag.evaluate import compute_report
from redflag.features import Analysis, Analyzer, FeatureConfig
from redflag.labels import LABELS
from redflag.model import LinearModel
from redflag.rules import default_rules_text, load_rules
from redflag.training import DEFAULT_C, DEFAULT_MIN_DF, _best_threshold, _identity, prepare_folds, sample_weights

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from training_sets import _writer as writer_number  # noqa: E402  (the rows training_sets.py validates on)

VARIANTS = ("sentence-max", "risk-head", "dense", "stacked", "mlp")
#: Where a sentence ends; the delimiter stays with its sentence.
_SENTENCE_END = re.compile(r"(?<=[。！？!?\n])")
#: Discount of a label none of whose anchor words occurs, as the shipped model applies it.
_UNANCHORED = LinearModel.unanchored_factor


def _writer(ex: Example) -> int:
    return writer_number(ex.group, ex.id)


def sentences(text: str) -> list[str]:
    """The sentences of a message with more than one; empty for a one-sentence message."""
    parts = [p for p in _SENTENCE_END.split(text) if p.strip()]
    return parts if len(parts) > 1 else []


def anchor_factors(analyses: Sequence[Analysis]) -> np.ndarray:
    """Per message and label: 1, or the shipped model's discount where none of the label's anchor words occurs."""
    return np.array([[1.0 if lab in a.anchored else _UNANCHORED for lab in LABELS] for a in analyses])


class Dense:
    """Unit-length mean of a message's unit word vectors, as sparse rows."""

    def __init__(self, wheel: Path) -> None:
        sys.path.insert(0, str(ROOT / "data"))
        from word_clusters import read_vectors, tokenizable  # the reader the cluster table is built with

        words, rows, vectors = read_vectors(wheel)
        self.table = tokenizable({w: int(r) for w, r in zip(words, rows)})
        self.unit = vectors / (np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-9)

    def rows(self, analyses: Sequence[Analysis]) -> Any:
        out = np.zeros((len(analyses), self.unit.shape[1]))
        get = self.table.get
        for i, a in enumerate(analyses):
            idx = [r for r in (get(w, get(w.lower())) for w in a.words) if r is not None]
            if idx:
                v = self.unit[idx].mean(axis=0)
                out[i] = v / (np.linalg.norm(v) + 1e-9)
        return sparse.csr_matrix(out)


class Fitted:
    """tf-idf and one regression per column of the target (the five labels, then "any").

    What :func:`redflag.training.fit_model` fits, kept as scikit-learn objects so that dense
    columns can stand beside the tf-idf ones.
    """

    def __init__(
        self, features: Sequence[Sequence[str]], Y: np.ndarray, weights: np.ndarray | None, dense: Any = None
    ) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        self.vec = TfidfVectorizer(analyzer=_identity, min_df=DEFAULT_MIN_DF, sublinear_tf=True, dtype=np.float64)
        X = self.vec.fit_transform(features)
        if dense is not None:
            X = sparse.hstack([X, dense]).tocsr()
        self.clfs = []
        for j in range(Y.shape[1]):
            clf = LogisticRegression(C=DEFAULT_C, solver="liblinear", random_state=0, max_iter=1000)
            clf.fit(X, Y[:, j], sample_weight=weights)
            self.clfs.append(clf)

    def scores(self, analyses: Sequence[Analysis], dense: Any = None) -> np.ndarray:
        """Probabilities, each label's discounted where it is unanchored, "any" where no label is."""
        X = self.vec.transform([a.features for a in analyses])
        if dense is not None:
            X = sparse.hstack([X, dense]).tocsr()
        p = np.column_stack([clf.predict_proba(X)[:, 1] for clf in self.clfs])
        anchored = np.array([[bool(a.anchored)] for a in analyses])
        return p * np.hstack([anchor_factors(analyses), np.where(anchored, 1.0, _UNANCHORED)])


class Network:
    """The ``mlp`` variant: tf-idf and one hidden layer shared by the five labels."""

    def __init__(self, features: Sequence[Sequence[str]], y: np.ndarray, weights: np.ndarray | None) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.neural_network import MLPClassifier

        self.vec = TfidfVectorizer(analyzer=_identity, min_df=10, sublinear_tf=True, dtype=np.float32)
        X = self.vec.fit_transform(features)
        # A fixed number of epochs (no early stopping on a random split), so every fold trains alike.
        self.net = MLPClassifier(
            hidden_layer_sizes=(64,),
            alpha=1e-4,
            batch_size=512,
            learning_rate_init=1e-3,
            max_iter=6,
            tol=0.0,
            n_iter_no_change=10**6,
            random_state=0,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.net.fit(X, y, sample_weight=weights)

    def scores(self, analyses: Sequence[Analysis]) -> np.ndarray:
        """The five labels' probabilities, discounted where unanchored, and a zero "any" column."""
        p = self.net.predict_proba(self.vec.transform([a.features for a in analyses]))
        return np.column_stack([p * anchor_factors(analyses), np.zeros(len(analyses))])


def stack(oof: np.ndarray, y: np.ndarray, fold_of: np.ndarray, k: int, *others: np.ndarray) -> list[np.ndarray]:
    """The ``stacked`` variant: out-of-fold second-stage scores, then ``others`` scored by stages fit on all."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    def stage() -> Any:
        return HistGradientBoostingClassifier(
            max_iter=200, learning_rate=0.05, max_leaf_nodes=15, min_samples_leaf=40, random_state=0
        )

    out = [np.zeros((len(oof), oof.shape[1]))] + [np.zeros((len(o), oof.shape[1])) for o in others]
    for j in range(len(LABELS)):
        for f in range(k):
            tr, va = fold_of != f, fold_of == f
            out[0][va, j] = stage().fit(oof[tr], y[tr, j]).predict_proba(oof[va])[:, 1]
        whole = stage().fit(oof, y[:, j])
        for o, dest in zip(others, out[1:]):
            if len(o):
                dest[:, j] = whole.predict_proba(o)[:, 1]
    return out


def decide(p: np.ndarray, t: np.ndarray, head: float | None = None, gate: float = 0.5) -> np.ndarray:
    """Labels per message: each label at its threshold; with a head threshold, the nearest label
    where none reaches its own but the head does and that label is within ``gate`` of it."""
    out = p[:, : len(LABELS)] >= t
    if head is not None:
        ratio = p[:, : len(LABELS)] / t
        extra = (p[:, len(LABELS)] >= head) & ~out.any(axis=1) & (ratio.max(axis=1) >= gate)
        best = np.argmax(ratio, axis=1)
        out[extra, best[extra]] = True
    return out


def figures(y: np.ndarray, decided: np.ndarray, p: np.ndarray) -> str:
    gold = [tuple(lab for j, lab in enumerate(LABELS) if row[j]) for row in y]
    pred = [tuple(lab for j, lab in enumerate(LABELS) if row[j]) for row in decided]
    r = compute_report(gold, pred, p[:, : len(LABELS)])
    return f"{r.macro_f1:.3f} / {r.any_recall:.3f} / {r.safe_fpr:.3f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", nargs="?", default=str(ROOT / "data" / "train.jsonl"))
    ap.add_argument("--variants", default="sentence-max,risk-head", help=f"comma-separated, of {', '.join(VARIANTS)}")
    ap.add_argument("--beta", default="0.9,1.0,1.1,1.2", help="uniform F-betas of the label thresholds to report")
    ap.add_argument("--head-beta", type=float, default=0.8, help="F-beta of the risk head's threshold")
    ap.add_argument(
        "--gate", type=float, default=0.5, help="share of its threshold the label the head gives must reach"
    )
    ap.add_argument("--holdout", default="", help="LO-HI: leave the writers wLO..wHI out and score them as unseen")
    ap.add_argument("--writers", type=int, default=29, help="out-of-fold figures on the rows of w1..wN")
    ap.add_argument("--wheel", type=Path, default=Path("ja_ginza-5.3.0-py3-none-any.whl"), help="for dense")
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    ap.add_argument("--save", help="write the scores to this .npz file")
    args = ap.parse_args()
    variants = [v for v in args.variants.split(",") if v]
    unknown = sorted(set(variants) - set(VARIANTS))
    if unknown:
        ap.error(f"unknown variant(s) {', '.join(unknown)}; choose from {', '.join(VARIANTS)}")
    started = time.perf_counter()

    examples = load_examples(args.data)
    held: list[Example] = []
    if args.holdout:
        lo, hi = (int(v) for v in args.holdout.split("-"))
        held = [ex for ex in examples if lo <= _writer(ex) <= hi]
        examples = [ex for ex in examples if not lo <= _writer(ex) <= hi]
    analyzer = Analyzer(load_rules(text=default_rules_text()), FeatureConfig())
    analyses, y, fold_of, k, _ = prepare_folds(examples, analyzer, folds=5, seed=0)
    Y = np.column_stack([y, y.any(axis=1)])
    weights = sample_weights(examples)
    with gzip.open(args.shared / "corpora" / "real_persona_chat.jsonl.gz", "rt", encoding="utf-8") as f:
        chat = [analyzer.analyze(json.loads(line)["text"]) for line in f]
    unseen = [analyzer.analyze(ex.text) for ex in held]
    y_unseen = np.array([[lab in ex.labels for lab in LABELS] for ex in held], dtype=np.int64).reshape(-1, len(LABELS))

    # Every sentence of every multi-sentence message, with the message it belongs to.
    def split(texts: Sequence[str]) -> tuple[np.ndarray, list[Analysis]]:
        owner, parts = [], []
        if "sentence-max" in variants:
            for i, text in enumerate(texts):
                for s in sentences(text):
                    owner.append(i)
                    parts.append(analyzer.analyze(s))
        return np.array(owner, dtype=np.int64), parts

    s_owner, s_parts = split([ex.text for ex in examples])
    c_owner, c_parts = split([a.normalized.original for a in chat])
    print(f"analyzed in {time.perf_counter() - started:.0f} s", flush=True)

    dense = Dense(args.wheel) if "dense" in variants else None
    dense_rows = (dense.rows(analyses), dense.rows(chat), dense.rows(unseen)) if dense else None
    out: dict[str, np.ndarray] = {}
    kinds = [("base", False)] + ([("dense", True)] if dense else [])
    for name, with_dense in kinds:
        oof = np.zeros(Y.shape)
        oof_s = np.zeros(Y.shape)
        for f in range(k):
            tr, va = np.flatnonzero(fold_of != f), np.flatnonzero(fold_of == f)
            d = dense_rows[0] if with_dense and dense_rows else None
            m = Fitted(
                [analyses[i].features for i in tr],
                Y[tr],
                None if weights is None else weights[tr],
                None if d is None else d[tr],
            )
            oof[va] = m.scores([analyses[i] for i in va], None if d is None else d[va])
            if len(s_owner) and not with_dense:
                sv = np.flatnonzero(fold_of[s_owner] == f)
                np.maximum.at(oof_s, s_owner[sv], m.scores([s_parts[j] for j in sv]))
            print(f"{name}: fold {f} at {time.perf_counter() - started:.0f} s", flush=True)
        d_all = dense_rows if with_dense else None
        m = Fitted([a.features for a in analyses], Y, weights, None if d_all is None else d_all[0])
        out[f"{name}_oof"] = oof
        out[f"{name}_chat"] = m.scores(chat, None if d_all is None else d_all[1])
        out[f"{name}_unseen"] = (
            m.scores(unseen, None if d_all is None else d_all[2]) if unseen else np.zeros((0, Y.shape[1]))
        )
        if len(s_owner) and not with_dense:
            chat_s = np.zeros_like(out[f"{name}_chat"])
            if len(c_owner):
                np.maximum.at(chat_s, c_owner, m.scores(c_parts))
            out["sentence-max_oof"] = np.maximum(oof, oof_s)
            out["sentence-max_chat"] = np.maximum(out[f"{name}_chat"], chat_s)
    if "stacked" in variants:
        out["stacked_oof"], out["stacked_chat"], out["stacked_unseen"] = stack(
            out["base_oof"], y, fold_of, k, out["base_chat"], out["base_unseen"]
        )
        print(f"stacked at {time.perf_counter() - started:.0f} s", flush=True)
    if "mlp" in variants:
        oof = np.zeros(Y.shape)
        for f in range(k):
            tr, va = np.flatnonzero(fold_of != f), np.flatnonzero(fold_of == f)
            net = Network([analyses[i].features for i in tr], y[tr], None if weights is None else weights[tr])
            oof[va] = net.scores([analyses[i] for i in va])
            print(f"mlp: fold {f} at {time.perf_counter() - started:.0f} s", flush=True)
        net = Network([a.features for a in analyses], y, weights)
        out["mlp_oof"], out["mlp_chat"] = oof, net.scores(chat)
        out["mlp_unseen"] = net.scores(unseen) if unseen else np.zeros((0, Y.shape[1]))
    rows = np.array([0 <= _writer(ex) <= args.writers for ex in examples])
    if args.save:
        np.savez_compressed(args.save, Y=Y, rows=rows, y_unseen=y_unseen, **out)

    print(
        f"{args.data}: {len(examples)} messages; out of fold on the {int(rows.sum())} rows of w1..w{args.writers} "
        f"(macro-F1 / any-risk recall / safe FPR); RealPersonaChat n={len(chat)}"
        + (f"; unseen writers w{args.holdout}: {len(held)} messages" if held else "")
    )
    shown = [("base", "base", None)]
    if "sentence-max" in variants:
        shown.append(("sentence-max", "sentence-max", None))
    if "risk-head" in variants:
        shown.append(("risk-head", "base", args.head_beta))
    if dense:
        shown.append(("dense", "dense", None))
    shown.extend((v, v, None) for v in ("stacked", "mlp") if v in variants)
    for beta in (float(b) for b in args.beta.split(",")):
        for title, key, head_beta in shown:
            oof, chat_scores = out[f"{key}_oof"], out[f"{key}_chat"]
            t = np.array([_best_threshold(y[:, j], oof[:, j], beta) for j in range(len(LABELS))])
            head = None if head_beta is None else _best_threshold(Y[:, -1], oof[:, -1], head_beta)
            line = f"  beta {beta:g} {title:13s} {figures(y[rows], decide(oof[rows], t, head, args.gate), oof[rows])}"
            line += f"  RealPersonaChat {int(decide(chat_scores, t, head, args.gate).any(axis=1).sum())}"
            if held and f"{key}_unseen" in out:
                u = out[f"{key}_unseen"]
                line += f"  unseen {figures(y_unseen, decide(u, t, head, args.gate), u)}"
            print(line)
    print(f"  {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
