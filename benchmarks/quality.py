"""Quality figures of a model, in one command:

    python benchmarks/quality.py [--model PATH] [--shared ../shared] [--limit N] [--show 30]

1. the shared dev set (never trained on): per-label P/R/F1, macro-F1, any-risk recall, safe FPR;
2. the real chat corpus (RealPersonaChat, 408,619 utterances, all safe): share flagged;
3. the hotel-search chat corpus (ASDC, 4,270 utterances, all safe): share flagged.

Targets: dev macro-F1 >= 0.93, any-risk recall >= 0.95, safe FPR <= 0.03; at most 0.05% of
RealPersonaChat and 0.1% of ASDC flagged. The corpora are read from ../shared and never copied.
"""

from __future__ import annotations

import argparse
import gzip
import json
import time
from collections import Counter
from pathlib import Path

from redflag import Scorer
from redflag.evaluate import compute_report

ROOT = Path(__file__).resolve().parent.parent


def _read_jsonl(path: Path, limit: int | None = None) -> list[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    rows = []
    with opener(path, "rt", encoding="utf-8") as f:
        for line in f:
            if limit is not None and len(rows) >= limit:
                break
            rows.append(json.loads(line))
    return rows


def flagged_share(scorer: Scorer, path: Path, limit: int | None, show: int) -> dict:
    rows = _read_jsonl(path, limit)
    texts = [r["text"] for r in rows]
    start = time.perf_counter()
    results = []
    for i in range(0, len(texts), 4096):
        results.extend(scorer.score_many(texts[i : i + 4096], explain=False))
    secs = time.perf_counter() - start
    flagged = [(t, a) for t, a in zip(texts, results) if a.labels]
    by_label = Counter(label for _, a in flagged for label in a.labels)
    print(
        f"{path.name}: {len(flagged)} of {len(texts)} flagged ({len(flagged) / len(texts):.4%}); "
        f"per label {dict(by_label)}; {len(texts) / secs:.0f} messages/s"
    )
    for t, a in sorted(flagged, key=lambda x: -x[1].risk)[:show]:
        print(f"    {a.risk:.2f} {','.join(a.labels):32s} {t[:80]!r}")
    return {"n": len(texts), "flagged": len(flagged), "share": len(flagged) / len(texts), "per_label": dict(by_label)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", help="model file (default: the shipped model)")
    ap.add_argument("--shared", default=str(ROOT.parent / "shared"))
    ap.add_argument("--limit", type=int, help="score only the first N corpus messages (quick look)")
    ap.add_argument("--show", type=int, default=20, help="flagged corpus messages to print")
    ap.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    args = ap.parse_args()
    shared = Path(args.shared)
    scorer = Scorer.load(args.model)
    out: dict = {}

    dev = _read_jsonl(shared / "eval" / "dev.jsonl")
    results = scorer.score_many([r["text"] for r in dev], explain=False)
    report = compute_report([r["labels"] for r in dev], [a.labels for a in results])
    print(report.format("shared dev set"))
    out["dev"] = {"macro_f1": report.macro_f1, "any_recall": report.any_recall, "safe_fpr": report.safe_fpr}
    out["real_persona_chat"] = flagged_share(
        scorer, shared / "corpora" / "real_persona_chat.jsonl.gz", args.limit, args.show
    )
    out["asdc"] = flagged_share(scorer, shared / "corpora" / "asdc.jsonl", args.limit, args.show)

    checks = [
        ("dev macro-F1 >= 0.93", report.macro_f1 >= 0.93),
        ("dev any-risk recall >= 0.95", report.any_recall >= 0.95),
        ("dev safe FPR <= 0.03", report.safe_fpr <= 0.03),
        ("RealPersonaChat flagged <= 0.05%", out["real_persona_chat"]["share"] <= 0.0005),
        ("ASDC flagged <= 0.1%", out["asdc"]["share"] <= 0.001),
    ]
    for name, ok in checks:
        print(f"  [{'met' if ok else 'NOT met'}] {name}")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
