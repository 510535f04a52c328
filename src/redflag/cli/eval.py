"""``redflag eval DATA``: per-label precision/recall/F1, micro/macro F1, safe false-positive rate."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from typing import Any

import numpy as np

from ..dataset import load_examples
from ..evaluate import compute_report, format_rule_table, rule_table
from ._common import add_model_argument, load_scorer


def add_parser(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "eval", help="measure a model on labeled messages", description="Score labeled DATA and print metrics."
    )
    p.add_argument("data", metavar="DATA")
    p.add_argument("--text-column", default="text")
    p.add_argument("--labels-column", default="labels")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument(
        "--rules", action="store_true", help="also print how often each rule fires on risky and safe messages"
    )
    add_model_argument(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    scorer = load_scorer(args)
    examples = load_examples(args.data, text_column=args.text_column, labels_column=args.labels_column)
    results = scorer.score_many([ex.text for ex in examples], explain=False)
    scores = np.array([[a.scores[label] for label in scorer.labels] for a in results])
    report = compute_report([ex.labels for ex in examples], [a.labels for a in results], scores, scorer.labels)
    table = None
    if args.rules:
        hit_ids = [{h.rule.id for h in scorer.analyze(ex.text)[0].hits if not h.negated} for ex in examples]
        table = rule_table(hit_ids, [ex.labels for ex in examples], scorer.rules)
    if args.json:
        out = report.to_dict()
        if table is not None:
            out["rules"] = [{**asdict(r), "precision": r.precision} for r in table]
        print(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        print(report.format(args.data))
        if table is not None:
            print()
            print(format_rule_table(table))
    return 0
