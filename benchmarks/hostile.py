"""Scoring time against message length on hostile inputs: does it grow linearly?

    python benchmarks/hostile.py [--max 1000000] [--repeat 3]

For each input family (one character repeated, channel names repeated, letters spaced out for
the de-spacing step, digit-and-dash runs for the phone detector, at-marks and dots for the e-mail
detector, refusal words for the negation scan, real text repeated) it scores messages of growing
length with truncation off (``max_chars`` above the longest input), and prints seconds and
microseconds per character. Time growing linearly shows as a flat us/char column; the last
column is the ratio of us/char at the longest input to us/char at the shortest (1.0 = linear;
a quadratic step would show as ~100 between 10 kB and 1 MB). It also reports a 1 MB message
under the default ``max_chars`` (truncated, flagged ``truncated``) and any rule that timed out.
"""

from __future__ import annotations

import argparse
import logging
import time

from redflag import Scorer

FAMILIES: dict[str, str] = {
    "one char": "あ",
    "channel names": "LINEチャットワークslack",
    "spaced letters": "l i n e ",
    "digits and dashes": "090-1234-",
    "at and dots": "a@b.c アットマーク ドット ",
    "refusal words": "直接契約はお受けできません。",
    "escrow statements": "仮払いが完了し外部連絡申請も承認",
    "real message": "はじめまして。ご応募ありがとうございます。仮払い後に作業を開始してください。",
}


class _Count(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.n = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.n += "timed out" in record.getMessage()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--max", type=int, default=1_000_000, help="longest message, characters (default 1,000,000)")
    ap.add_argument("--repeat", type=int, default=3, help="best of N runs per length")
    args = ap.parse_args()
    timeouts = _Count()
    logging.getLogger("redflag").addHandler(timeouts)
    default = Scorer.load()
    unbounded = Scorer(default.model, max_chars=args.max + 1)
    lengths = [n for n in (10_000, 30_000, 100_000, 300_000, 1_000_000, 3_000_000) if n <= args.max]
    head = "".join(f"{n:>12,}" for n in lengths)
    print(f"{'family':20s}{head}   (seconds; us/char)   ratio")
    for name, unit in FAMILIES.items():
        per_char = []
        cells = []
        for n in lengths:
            text = (unit * (n // len(unit) + 1))[:n]
            best = min(_timed(unbounded, text) for _ in range(args.repeat))
            per_char.append(best / n * 1e6)
            cells.append(f"{best:7.2f};{per_char[-1]:4.1f}")
        ratio = per_char[-1] / per_char[0]
        print(f"{name:20s}" + "".join(f"{c:>12s}" for c in cells) + f"   {ratio:6.2f}")
    text = "あ" * 1_000_000
    started = time.perf_counter()
    a = default.score(text)
    print(
        f"\n1 MB message, default max_chars={default.max_chars:,}: {time.perf_counter() - started:.3f} s, "
        f"truncated={a.truncated}"
    )
    print(f"rules or conditions that timed out: {timeouts.n}")


def _timed(scorer: Scorer, text: str) -> float:
    started = time.perf_counter()
    scorer.score(text)
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
