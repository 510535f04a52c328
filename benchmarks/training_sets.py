"""Compare training sets or settings on the same validation rows, and on real chat.

    python benchmarks/training_sets.py DATA.jsonl [--writers 29] [--beta 0.8] [--no-concepts]
        [--min-df 2] [--sample 30000] [--shared ../shared]

Trains with grouped cross-validation (as ``redflag train`` does) and reports the out-of-fold
figures on the rows of writers ``w1``..``w<writers>`` only, so that a set with added writers is
compared with the one without them on the same rows; then the share of a sample of
RealPersonaChat flagged by the final model (every 8th message, ``--sample`` of them) and of ASDC.
This is how data and feature changes to the default model are decided: never on the shared dev set.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import time
from pathlib import Path

import numpy as np

from redflag.dataset import load_examples
from redflag.evaluate import compute_report
from redflag.features import FeatureConfig
from redflag.labels import LABELS
from redflag.scorer import Scorer
from redflag.training import DEFAULT_BETA, DEFAULT_MIN_DF, train

ROOT = Path(__file__).resolve().parent.parent


def _writer(group: str, ident: str) -> int:
    m = re.match(r"w(\d+)", group.lower()) or re.match(r"w(\d+)", ident.lower())
    return int(m.group(1)) if m else -1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", help="a built training set (data/build.py writes data/train.jsonl)")
    ap.add_argument("--writers", type=int, default=29, help="validate on rows of writers w1..wN (default 29)")
    ap.add_argument("--beta", type=float, default=DEFAULT_BETA, help="F-beta of the thresholds")
    ap.add_argument("--no-concepts", action="store_true", help="train without concept-pair features")
    ap.add_argument("--min-df", type=int, default=DEFAULT_MIN_DF, help="keep features seen in at least this many messages")
    ap.add_argument("--sample", type=int, default=30_000, help="RealPersonaChat messages to score")
    ap.add_argument("--shared", default=str(ROOT.parent / "shared"))
    args = ap.parse_args()
    shared = Path(args.shared)
    examples = load_examples(args.data)
    started = time.perf_counter()
    config = FeatureConfig(concept_pairs=not args.no_concepts)
    result = train(examples, seed=0, config=config, beta=args.beta, min_df=args.min_df)
    rows = np.array([0 <= _writer(ex.group, ex.id) <= args.writers for ex in examples])
    thresholds = np.array([result.model.thresholds[label] for label in LABELS])
    pred = [tuple(lb for lb, p, t in zip(LABELS, row, thresholds) if p >= t) for row in result.oof_scores[rows]]
    gold = [ex.labels for ex, keep in zip(examples, rows) if keep]
    report = compute_report(gold, pred)
    scorer = Scorer(result.model)
    chat = []
    with gzip.open(shared / "corpora" / "real_persona_chat.jsonl.gz", "rt", encoding="utf-8") as f:
        for i, line in enumerate(f):
            if i % 8 == 0:
                chat.append(json.loads(line)["text"])
            if len(chat) >= args.sample:
                break
    asdc = [json.loads(line)["text"] for line in (shared / "corpora" / "asdc.jsonl").open(encoding="utf-8")]
    flagged_chat = sum(1 for a in scorer.score_many(chat, explain=False) if a.labels)
    flagged_asdc = sum(1 for a in scorer.score_many(asdc, explain=False) if a.labels)
    per_label = " ".join(f"{k}={m.f1:.3f}/R{m.recall:.2f}" for k, m in report.labels.items())
    print(
        f"{args.data} (concepts={config.concept_pairs}, beta={args.beta}): {len(examples)} messages; "
        f"out-of-fold on the {int(rows.sum())} rows of w1..w{args.writers}: macro-F1 {report.macro_f1:.3f}, "
        f"any-risk R {report.any_recall:.3f} P {report.any_precision:.3f}, safe FPR {report.safe_fpr:.3f}; {per_label}"
    )
    print(
        f"RealPersonaChat sample: {flagged_chat} of {len(chat)} flagged ({flagged_chat / len(chat):.4%}); "
        f"ASDC: {flagged_asdc} of {len(asdc)} ({flagged_asdc / len(asdc):.4%}); {time.perf_counter() - started:.0f} s"
    )


if __name__ == "__main__":
    main()
