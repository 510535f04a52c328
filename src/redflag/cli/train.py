"""``redflag train DATA... -o MODEL``: train a model; write it with its model card."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ..card import card_markdown
from ..dataset import default_examples, load_examples
from ..training import DEFAULT_BETA, DEFAULT_C, DEFAULT_FOLDS, parse_beta, train


def add_parser(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "train",
        help="train a model on labeled messages",
        description="Train on labeled JSONL/CSV/TSV files (labels as a JSON list or ';'-separated names). "
        "Writes MODEL, MODEL.card.json and MODEL.card.md.",
    )
    p.add_argument("data", nargs="*", metavar="DATA")
    p.add_argument("-o", "--output", required=True, metavar="MODEL")
    p.add_argument("--text-column", default="text")
    p.add_argument("--labels-column", default="labels")
    p.add_argument("--id-column", default="id")
    p.add_argument(
        "--weight-column",
        default="weight",
        help="column/field with each message's weight in the fit, a positive number (missing or empty: 1)",
    )
    p.add_argument("--with-default-data", action="store_true", help="add the corpus shipped with redflag")
    p.add_argument("--rules", metavar="TOML", help="rules file (default: the shipped rules)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--folds", type=int, default=DEFAULT_FOLDS)
    p.add_argument("--C", type=float, default=DEFAULT_C, dest="C", help="inverse regularization strength")
    p.add_argument(
        "--beta",
        default=None,
        help="thresholds maximize this F-beta on the validation split, below 1 favouring precision: one number "
        "for every label, or LABEL=NUMBER for each label, comma-separated (default: "
        + ",".join(f"{k}={v:g}" for k, v in DEFAULT_BETA.items())
        + ")",
    )
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    beta = DEFAULT_BETA if args.beta is None else parse_beta(args.beta)
    examples = []
    for path in args.data:
        examples.extend(
            load_examples(
                path,
                text_column=args.text_column,
                labels_column=args.labels_column,
                id_column=args.id_column,
                weight_column=args.weight_column,
            )
        )
    if args.with_default_data:
        examples.extend(default_examples())
    if not examples:
        raise ValueError("no training data: give DATA files and/or --with-default-data")
    progress = not args.no_progress and sys.stderr.isatty()
    result = train(
        examples, rules_path=args.rules, seed=args.seed, folds=args.folds, C=args.C, beta=beta, progress=progress
    )
    out = Path(args.output)
    digest = result.model.save(out)
    card = {"sha256": digest, **result.model.meta, "thresholds": result.model.thresholds}
    Path(f"{out}.card.json").write_text(json.dumps(card, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    Path(f"{out}.card.md").write_text(card_markdown(card), encoding="utf-8")
    print(result.validation.format(f"validation ({result.model.meta['validation']['method']})"), file=sys.stderr)
    print(f"wrote {out} (sha256 {digest})", file=sys.stderr)
    return 0
