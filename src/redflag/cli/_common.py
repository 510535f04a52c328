"""Pieces several subcommands share."""

from __future__ import annotations

import argparse

from ..scorer import Scorer


def add_model_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model", metavar="PATH", help="model file written by `redflag train` (default: the shipped model)"
    )
    parser.add_argument("--model-sha256", metavar="HEX", help="refuse the model unless its SHA-256 is exactly this")


def load_scorer(args: argparse.Namespace) -> Scorer:
    return Scorer.load(args.model, sha256=args.model_sha256)
