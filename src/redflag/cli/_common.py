"""Pieces several subcommands share."""

from __future__ import annotations

import argparse

from ..model import sha256_file
from ..platforms import PLATFORMS
from ..scorer import Scorer


def add_model_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model", metavar="PATH", help="model file written by `redflag train` (default: the shipped model)"
    )
    parser.add_argument("--model-sha256", metavar="HEX", help="refuse the model unless its SHA-256 is exactly this")
    parser.add_argument(
        "--trust-model",
        action="store_true",
        help="open a --model file that has no recorded SHA-256 (MODEL.sha256); only for files you trust",
    )


def add_platform_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--platform",
        choices=PLATFORMS,
        default="generic",
        help="whose rule on outside contact applies (default: generic, the annotation guide's rule)",
    )


def load_scorer(args: argparse.Namespace) -> Scorer:
    scorer = Scorer.load(args.model, sha256=args.model_sha256, trust=getattr(args, "trust_model", False))
    _pin(args)
    return scorer


def check_model(args: argparse.Namespace) -> None:
    """Every check of :func:`load_scorer`, without loading the model (workers load their own)."""
    Scorer.check(args.model, sha256=args.model_sha256, trust=getattr(args, "trust_model", False))
    _pin(args)


def _pin(args: argparse.Namespace) -> None:
    if args.model is not None and args.model_sha256 is None:
        # Worker processes load the model again: pin them to the bytes this process accepted.
        args.model_sha256 = sha256_file(args.model)
