"""Compare training sets or settings on the same validation rows, and on real chat.

    python benchmarks/training_sets.py DATA.jsonl [--writers 29] [--beta 0.7,0.8] [--no-concepts]
        [--no-clusters] [--min-df 5] [--C 8] [--char-ngrams 2,3] [--save SCORES.npz] [--sample 30000 | --full] [--shared ../shared]
        [--unseen data/raw/wNN.jsonl ...] [--factor 0.1,0.3] [--allocate 204] [--safe-writer-weight 4]
        [--writer-folds]

Trains with grouped cross-validation (as ``redflag train`` does) and reports the out-of-fold
figures on the rows of writers ``w1``..``w<writers>`` only, so that a set with added writers is
compared with the one without them on the same rows; then the share of a sample of
RealPersonaChat flagged by the final model (every 8th message, ``--sample`` of them) and of ASDC.
With ``--unseen``, also the figures of the final model on labeled files of writers the training
set does not have yet (each beta's thresholds applied; ids listed in data/parts/excluded.tsv are
left out, as the corpus builder leaves them out). With ``--factor``, each figure for each
discount of a label none of whose anchor words occurs (the model's ``unanchored_factor``,
which only rescales final scores, so one training run serves every value). Each uniform beta
of ``--beta`` is reported, and the per-label betas the trainer uses by default. With
``--allocate N``, also the per-label betas (a grid from 0.6 to 1.3) with the most out-of-fold
macro-F1 + any-risk recall among those that flag at most N RealPersonaChat messages, found by
changing one label's beta at a time, from every uniform start. With ``--safe-writer-weight W``,
the messages of safe-only writers weigh W in the fit instead of what DATA gives them. With
``--writer-folds``, the folds hold whole writer files instead of blocks of 40 messages, so that
every out-of-fold score comes from a model that saw nothing of that writer. This is
how data and feature changes to the default model are decided: never on the shared dev set.
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import json
import re
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from redflag.dataset import load_examples
from redflag.evaluate import compute_report
from redflag.features import FeatureConfig
from redflag.io import InputError
from redflag.labels import LABELS
from redflag.scorer import Scorer
from redflag.training import DEFAULT_BETA, DEFAULT_C, DEFAULT_MIN_DF, Example, _best_threshold, label_betas, train

ROOT = Path(__file__).resolve().parent.parent


def _source(group: str) -> str:
    """The writer file of a corpus group ("writer:block", as data/build.py names them)."""
    return group.partition(":")[0]


def _writer(group: str, ident: str) -> int:
    m = re.match(r"w(\d+)", group.lower()) or re.match(r"w(\d+)", ident.lower())
    return int(m.group(1)) if m else -1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", help="a built training set (data/build.py writes data/train.jsonl)")
    ap.add_argument("--writers", type=int, default=29, help="validate on rows of writers w1..wN (default 29)")
    ap.add_argument(
        "--beta",
        default="0.75,0.8,0.85,0.9",
        help="F-beta of the thresholds, one for every label; several, comma-separated, are compared from one training run",
    )
    ap.add_argument(
        "--allocate",
        type=int,
        default=0,
        help="search per-label betas for the best out-of-fold figures flagging at most this many RealPersonaChat messages",
    )
    ap.add_argument("--no-concepts", action="store_true", help="train without concept-pair features")
    ap.add_argument("--no-clusters", action="store_true", help="train without word-cluster features (v:)")
    ap.add_argument("--min-df", type=int, default=DEFAULT_MIN_DF, help="keep features seen in at least this many messages")
    ap.add_argument("--C", type=float, default=DEFAULT_C, help="inverse regularization strength of the regressions")
    ap.add_argument("--sample", type=int, default=30_000, help="RealPersonaChat messages to score (every 8th)")
    ap.add_argument("--full", action="store_true", help="score all 408,619 RealPersonaChat messages instead")
    ap.add_argument("--char-ngrams", default="2,3", help="lengths of the character n-grams, LO,HI (0,0: none)")
    ap.add_argument("--save", help="write the out-of-fold and real-chat scores to this .npz file, for analysis")
    ap.add_argument("--shared", default=str(ROOT.parent / "shared"))
    ap.add_argument(
        "--factor",
        default="",
        help="discounts for unanchored labels to compare (comma-separated; default: the model's own)",
    )
    ap.add_argument("--unseen", nargs="+", default=[], help="labeled files of writers not in DATA, scored by the final model")
    ap.add_argument(
        "--safe-writer-weight",
        type=float,
        help="weight in the fit of the messages of safe-only writers (default: the weights DATA gives)",
    )
    ap.add_argument(
        "--writer-folds",
        action="store_true",
        help="cross-validation folds of whole writer files instead of 40-message blocks",
    )
    args = ap.parse_args()
    betas: list[dict[str, float]] = [label_betas(float(b)) for b in args.beta.split(",")]
    betas.append(label_betas(DEFAULT_BETA))
    # Training takes minutes: every input is read before it starts, so a wrong path fails at once.
    shared = Path(args.shared)
    try:
        examples = load_examples(args.data)
        unseen = _unseen(args.unseen)
        chat, asdc = _chat(shared, None if args.full else args.sample)
    except InputError as exc:
        ap.error(str(exc))
    except FileNotFoundError as exc:
        ap.error(f"{exc.filename}: no such file (--shared names the folder that holds corpora/)")
    if args.safe_writer_weight is not None:
        # Safe-only writers as data/build.py finds them: no message of theirs has a label.
        risky = {_source(ex.group) for ex in examples if ex.labels}
        examples = [
            replace(ex, weight=args.safe_writer_weight if _source(ex.group) not in risky else 1.0)
            for ex in examples
        ]
    if args.writer_folds:
        examples = [replace(ex, group=_source(ex.group)) for ex in examples]
    weighted = sum(ex.weight != 1.0 for ex in examples)
    started = time.perf_counter()
    lo, hi = (int(v) for v in args.char_ngrams.split(","))
    config = FeatureConfig(concept_pairs=not args.no_concepts, char_ngrams=(lo, hi), word_clusters=not args.no_clusters)
    result = train(examples, seed=0, config=config, min_df=args.min_df, C=args.C)
    rows = np.array([0 <= _writer(ex.group, ex.id) <= args.writers for ex in examples])
    y = np.array([[label in ex.labels for label in LABELS] for ex in examples], dtype=np.int64)
    gold = [ex.labels for ex, keep in zip(examples, rows) if keep]
    # Scores do not depend on the thresholds: every message is scored once, and each beta's
    # thresholds (chosen on all out-of-fold scores, as training does) are applied to them.
    scorer = Scorer(result.model)
    chat_scores = _scores(scorer, chat)
    asdc_scores = _scores(scorer, asdc)
    unseen_scores = _scores(scorer, [ex.text for ex in unseen])
    print(
        f"{args.data} ({'writer' if args.writer_folds else 'block'} folds, concepts={config.concept_pairs}, clusters={config.word_clusters}, char n-grams {lo}-{hi}, min_df={args.min_df}, C={args.C:g}): {len(examples)} messages ({weighted} weighted), "
        f"{len(result.model.vocabulary)} features; out-of-fold figures on the {int(rows.sum())} rows of "
        f"w1..w{args.writers}; RealPersonaChat {'all' if args.full else 'sample'} n={len(chat)}, ASDC n={len(asdc)}"
    )
    if args.save:
        np.savez_compressed(args.save, oof=result.oof_scores, y=y, rows=rows, chat=chat_scores, asdc=asdc_scores)
    own = result.model.unanchored_factor
    factors = [float(f) for f in args.factor.split(",")] if args.factor else [own]
    if factors != [own]:
        masks = [_unanchored(scorer, [ex.text for ex in examples]), _unanchored(scorer, chat)]
        masks += [_unanchored(scorer, asdc), _unanchored(scorer, [ex.text for ex in unseen])]
    base = (result.oof_scores, chat_scores, asdc_scores, unseen_scores)
    for factor in factors:
        if factor != own:
            # A final score of an unanchored label is the probability times the discount.
            oof, chat_scores, asdc_scores, unseen_scores = (
                np.where(m, s / own * factor, s) for s, m in zip(base, masks)
            )
            print(f"  unanchored factor {factor:g}:")
        else:
            oof, chat_scores, asdc_scores, unseen_scores = base
        found = [_allocate(y, oof, rows, chat_scores, args.allocate)] if args.allocate else []
        _report(betas + found, y, oof, rows, gold, chat_scores, asdc_scores, unseen, unseen_scores)
    print(f"  {time.perf_counter() - started:.0f} s")


_ALLOCATION_GRID = [round(0.6 + 0.05 * i, 2) for i in range(15)]


def _allocate(y: np.ndarray, oof: np.ndarray, rows: np.ndarray, chat: np.ndarray, limit: int) -> dict[str, float]:
    """Per-label betas with the most out-of-fold macro-F1 + any-risk recall (rows ``rows``)
    among those flagging at most ``limit`` of the real-chat messages scored ``chat``."""
    grid = _ALLOCATION_GRID
    table = np.array([[_best_threshold(y[:, j], oof[:, j], b) for b in grid] for j in range(len(LABELS))])
    chat = chat[(chat >= table.min()).any(axis=1)]  # only these can be flagged at any beta
    gold, scores = y[rows].astype(bool), oof[rows]
    risky = gold.any(axis=1)
    labels = np.arange(len(LABELS))

    def flagged(pick: list[int]) -> int:
        return int((chat >= table[labels, pick]).any(axis=1).sum())

    # The search weighs thousands of picks: counted on arrays here, not by compute_report on
    # label tuples, which gives the same macro-F1 and recall for the one that is reported.
    def value(pick: list[int]) -> float:
        pred = scores >= table[labels, pick]
        tp = (pred & gold).sum(axis=0)
        wrong = (pred & ~gold).sum(axis=0) + (~pred & gold).sum(axis=0)
        f1 = np.where(tp > 0, 2 * tp / np.maximum(2 * tp + wrong, 1), 0.0)
        return float(f1.mean() + (pred.any(axis=1) & risky).sum() / max(1, risky.sum()))

    best: tuple[float, list[int]] | None = None
    for start in range(len(grid)):
        pick = [start] * len(LABELS)
        if flagged(pick) > limit:
            continue
        current = value(pick)
        while True:  # the best single change, until none helps
            moves = []
            for j in labels:
                for k in range(len(grid)):
                    if k != pick[j]:
                        other = [*pick[:j], k, *pick[j + 1 :]]
                        if flagged(other) <= limit:
                            moves.append((value(other), other))
            top = max(moves, default=None, key=lambda m: m[0])
            if top is None or top[0] <= current + 1e-9:
                break
            current, pick = top
        if best is None or current > best[0] + 1e-9:
            best = (current, pick)
    if best is None:
        raise SystemExit(f"--allocate {limit}: even the lowest beta flags more real-chat messages")
    found = {lab: grid[k] for lab, k in zip(LABELS, best[1])}
    print(f"  allocated at most {limit} real-chat flags: " + ",".join(f"{k}={v:g}" for k, v in found.items()))
    return found


def _report(
    betas: list[dict[str, float]],
    y: np.ndarray,
    oof: np.ndarray,
    rows: np.ndarray,
    gold: list[tuple[str, ...]],
    chat_scores: np.ndarray,
    asdc_scores: np.ndarray,
    unseen: list[Example],
    unseen_scores: np.ndarray,
) -> None:
    for beta in betas:
        thresholds = np.array([_best_threshold(y[:, j], oof[:, j], beta[lab]) for j, lab in enumerate(LABELS)])
        pred = [tuple(lb for lb, p, t in zip(LABELS, row, thresholds) if p >= t) for row in oof[rows]]
        report = compute_report(gold, pred)
        per_label = " ".join(f"{k}={m.f1:.3f}/R{m.recall:.2f}" for k, m in report.labels.items())
        flagged_chat = int((chat_scores >= thresholds).any(axis=1).sum())
        flagged_asdc = int((asdc_scores >= thresholds).any(axis=1).sum())
        print(
            f"  beta={_name(beta)}: macro-F1 {report.macro_f1:.3f}, any-risk R {report.any_recall:.3f} "
            f"P {report.any_precision:.3f}, safe FPR {report.safe_fpr:.3f}; {per_label}\n"
            f"    RealPersonaChat {flagged_chat} flagged ({flagged_chat / len(chat_scores):.4%}); "
            f"ASDC {flagged_asdc} ({flagged_asdc / len(asdc_scores):.4%}); thresholds "
            + " ".join(f"{t:.2f}" for t in thresholds)
        )
        if unseen:
            pred = [tuple(lb for lb, p, t in zip(LABELS, row, thresholds) if p >= t) for row in unseen_scores]
            report = compute_report([ex.labels for ex in unseen], pred)
            per_label = " ".join(f"{k}={m.f1:.3f}/R{m.recall:.2f}" for k, m in report.labels.items())
            print(
                f"    unseen writers (n={len(unseen)}): macro-F1 {report.macro_f1:.3f}, any-risk R "
                f"{report.any_recall:.3f} P {report.any_precision:.3f}, safe FPR {report.safe_fpr:.3f}; {per_label}"
            )
            writer_of = [_writer(ex.group, ex.id) for ex in unseen]
            writers = sorted(set(writer_of))
            for writer in writers if len(writers) > 1 else []:
                part = [i for i, w in enumerate(writer_of) if w == writer]
                r = compute_report([unseen[i].labels for i in part], [pred[i] for i in part])
                print(
                    f"      w{writer} (n={len(part)}): macro-F1 {r.macro_f1:.3f}, any-risk R {r.any_recall:.3f}, "
                    f"safe FPR {r.safe_fpr:.3f}"
                )


def _name(beta: dict[str, float]) -> str:
    values = set(beta.values())
    return f"{values.pop():g}" if len(values) == 1 else ",".join(f"{k}={v:g}" for k, v in beta.items())


def _unanchored(scorer: Scorer, texts: list[str]) -> np.ndarray:
    """Per message and label: True where none of the label's anchor words occurs."""
    out = np.zeros((len(texts), len(LABELS)), dtype=bool)
    for i, text in enumerate(texts):
        anchored = scorer.analyze(text)[0].anchored
        out[i] = [label not in anchored for label in LABELS]
    return out


def _chat(shared: Path, sample: int | None) -> tuple[list[str], list[str]]:
    """The RealPersonaChat texts (all, or every 8th up to ``sample``) and the ASDC texts."""
    chat = []
    with gzip.open(shared / "corpora" / "real_persona_chat.jsonl.gz", "rt", encoding="utf-8") as f:
        for i, line in enumerate(f):
            if sample is None or i % 8 == 0:
                chat.append(json.loads(line)["text"])
            if sample is not None and len(chat) >= sample:
                break
    asdc = [json.loads(line)["text"] for line in (shared / "corpora" / "asdc.jsonl").open(encoding="utf-8")]
    return chat, asdc


def _unseen(paths: list[str]) -> list[Example]:
    """The labeled messages of ``paths``, without those the corpus builder leaves out."""
    spec = importlib.util.spec_from_file_location("corpus_build", ROOT / "data" / "build.py")
    assert spec is not None and spec.loader is not None
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    excluded = build.load_excluded()
    return [ex for path in paths for ex in load_examples(path) if ex.id not in excluded]


def _scores(scorer: Scorer, texts: list[str]) -> np.ndarray:
    """Final per-label scores (anchors and the generic platform rule applied), before thresholds."""
    out = np.empty((len(texts), len(LABELS)))
    for start in range(0, len(texts), 2048):
        for i, a in enumerate(scorer.score_many(texts[start : start + 2048], explain=False), start):
            out[i] = [a.scores[label] for label in LABELS]
    return out


if __name__ == "__main__":
    main()
