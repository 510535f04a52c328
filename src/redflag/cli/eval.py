"""``redflag eval DATA``: how a model does on labeled messages.

Prints per-label precision/recall/F1/average precision with confusion counts (tp/fp/fn/tn), the
threshold and calibration error per label, any-risk figures, the false-positive rate on safe
messages, micro/macro F1 and reliability bins; ``--rules`` adds the per-rule hit table.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from ..dataset import load_examples
from ..evaluate import evaluate
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
        "--rules",
        action="store_true",
        help="also print how often each rule fires on risky and safe messages, its precision and "
        "the messages it decided",
    )
    p.add_argument(
        "--messages", action="store_true", help="with --json: include every message's outcome (labels, scores, hits)"
    )
    add_model_argument(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    scorer = load_scorer(args)
    examples = load_examples(args.data, text_column=args.text_column, labels_column=args.labels_column)
    report = evaluate(scorer, examples)
    if args.json:
        out = report.to_dict(messages=args.messages)
        if not args.rules:
            out.pop("rules", None)
        print(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        print(report.format(args.data))
        if args.rules:
            print()
            print(report.format_rules())
    return 0
