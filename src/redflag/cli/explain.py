"""``redflag explain TEXT``: a readable account of one message: labels, scores, evidence, advice."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..labels import LABEL_INFO
from ..scorer import Scorer
from ._common import add_model_argument, add_platform_argument, load_scorer


def add_parser(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "explain", help="explain the verdict on one message", description="Explain one message (- reads stdin)."
    )
    p.add_argument("text", metavar="TEXT")
    p.add_argument("--allow", action="append", default=[], metavar="WORD")
    add_platform_argument(p)
    add_model_argument(p)
    p.set_defaults(func=run)


def explain_text(scorer: Scorer, text: str, allow: list[str] | None = None, platform: str = "generic") -> str:
    """The account `redflag explain` prints."""
    a, analysis = scorer.score_with_analysis(text, allow=allow or (), platform=platform)
    out = [f"level: {a.level}   risk: {a.risk:.2f}   labels: {', '.join(a.labels) or '(none: safe)'}"]
    if platform != "generic":
        out[0] += f"   platform: {platform}"
    out.append("scores: " + "  ".join(f"{k}={v:.2f}" for k, v in a.scores.items()))
    if a.normalization:
        out.append(f"normalized ({', '.join(a.normalization)}): {analysis.normalized.text}")
    for ev in a.evidence:
        line = text.count("\n", 0, ev.start) + 1
        col = ev.start - (text.rfind("\n", 0, ev.start) + 1) + 1
        out.append(
            f"  [{ev.label}] {ev.text!r} at line {line}, col {col} ({ev.start}-{ev.end}) <{ev.rule}> {ev.reason}"
        )
    negated = [h for h in analysis.hits if h.negated]
    for h in negated:
        s, e = analysis.normalized.original_span(h.start, h.end)
        out.append(f"  (not counted: refusal) {text[s:e]!r} <{h.rule.id}>")
    if a.evidence or a.labels:
        out.append("")
        for label in a.labels:
            out.append(f"{LABEL_INFO[label].name_ja} ({label}): {a.advice[label]}")
    marked = _highlight(text, [(ev.start, ev.end) for ev in a.evidence if not ev.rule.startswith("model:")])
    if marked != text:
        out.append("")
        out.append(marked)
    return "\n".join(out)


def _highlight(text: str, spans: list[tuple[int, int]]) -> str:
    merged: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
        else:
            merged.append((s, e))
    out, pos = [], 0
    for s, e in merged:
        out += [text[pos:s], "【", text[s:e], "】"]
        pos = e
    out.append(text[pos:])
    return "".join(out)


def run(args: argparse.Namespace) -> int:
    text = sys.stdin.read() if args.text == "-" else args.text
    print(explain_text(load_scorer(args), text, args.allow, args.platform))
    return 0
