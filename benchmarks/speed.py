"""Speed of redflag against the tokenizer's ceiling and a naive scikit-learn pipeline, same run.

    python benchmarks/speed.py [--n 20000] [--single 2000] [--rounds 3] [--shared ../shared]

On the same texts (real chat utterances from ../shared/corpora plus the dev messages for
longer texts) it measures:

1. the ceiling: raw ``fugashi.Tagger('-Owakati').parse`` throughput, and two floors: the parse
   split into a list of tokens, and normalization + parse + split, redflag's first steps;
2. the naive anchor: ``TfidfVectorizer(tokenizer=...) + OneVsRestClassifier(LogisticRegression)``
   trained on the shipped corpus, batch ``predict_proba`` and one message at a time;
3. redflag: ``Scorer.score_many`` (batch), ``Scorer.score`` one at a time (median and p99),
   and the CLI end to end (``redflag score FILE.csv -o OUT.jsonl --jobs 1``: start-up, model
   loading, reading, scoring with evidence and writing included);

and prints each as a ratio to the ceiling and to the anchor, plus import + model-load time and
the training time on the shipped corpus. Every timing of the ceiling, the anchor and redflag is
repeated ``--rounds`` times and the fastest kept (for one-at-a-time scoring, each message's
fastest), as timeit does: the same for all, and the least disturbed by the rest of the machine.
Ratios, not absolute times, are what carry over between machines.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import math
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _texts(shared: Path, n: int) -> list[str]:
    out = [json.loads(line)["text"] for line in (shared / "eval" / "dev.jsonl").open(encoding="utf-8")]
    with gzip.open(shared / "corpora" / "real_persona_chat.jsonl.gz", "rt", encoding="utf-8") as f:
        for line in f:
            if len(out) >= n:
                break
            out.append(json.loads(line)["text"])
    return out


def _best(run: Callable[[], object], rounds: int) -> float:
    """Seconds of the fastest of ``rounds`` runs (the least disturbed by the rest of the machine)."""
    times = []
    for _ in range(max(1, rounds)):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def _each(run: Callable[[str], object], texts: list[str], rounds: int) -> list[float]:
    """Each text's fastest time over ``rounds`` passes over all of them (one call per text)."""
    best = [math.inf] * len(texts)
    for _ in range(max(1, rounds)):
        for i, t in enumerate(texts):
            start = time.perf_counter()
            run(t)
            best[i] = min(best[i], time.perf_counter() - start)
    return best


def _rate(n: int, secs: float) -> str:
    return f"{n / secs:9.0f} msg/s"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=20000, help="messages to score")
    ap.add_argument("--single", type=int, default=2000, help="messages scored one at a time")
    ap.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="repeat each timing; the fastest round (one at a time: each message's fastest) is kept",
    )
    ap.add_argument("--shared", default=str(ROOT.parent / "shared"))
    args = ap.parse_args()
    texts = _texts(Path(args.shared), args.n)
    single = texts[: args.single]

    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import redflag; redflag.Scorer.load()"], check=True)
    load_secs = time.perf_counter() - start
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    load_secs -= time.perf_counter() - start  # the interpreter's own start-up is not redflag's

    import fugashi
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.pipeline import make_pipeline

    from redflag import Scorer
    from redflag.dataset import default_examples
    from redflag.labels import LABELS

    tagger = fugashi.Tagger("-Owakati")

    def parse_all() -> None:
        for t in texts:
            tagger.parse(t)

    ceiling = _best(parse_all, args.rounds)

    # What any scorer in Python starts from: MeCab's tokens as a list of strings, and redflag's
    # own first steps (normalized text, its tokens). Nothing built on them can be faster.
    from redflag.normalize import normalize

    split_all = _best(lambda: [tagger.parse(t).split() for t in texts], args.rounds)
    first_steps = _best(lambda: [tagger.parse(normalize(t).text).split() for t in texts], args.rounds)

    examples = default_examples()
    start = time.perf_counter()
    naive = make_pipeline(
        TfidfVectorizer(tokenizer=lambda s: tagger.parse(s).split(), token_pattern=None, sublinear_tf=True),
        OneVsRestClassifier(LogisticRegression(max_iter=1000)),
    )
    naive.fit([e.text for e in examples], [[lab in e.labels for lab in LABELS] for e in examples])
    naive_train = time.perf_counter() - start
    naive_batch = _best(lambda: naive.predict_proba(texts), args.rounds)
    naive_one = _each(lambda t: naive.predict_proba([t]), single, args.rounds)

    scorer = Scorer.load()
    scorer.score("warm up")
    rf_batch = _best(lambda: scorer.score_many(texts, explain=False), args.rounds)
    rf_one = _each(scorer.score, single, args.rounds)

    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "messages.csv", Path(tmp) / "scored.jsonl"
        with src.open("w", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            w.writerow(["id", "text"])
            w.writerows((i, t) for i, t in enumerate(texts))
        cmd = [sys.executable, "-m", "redflag", "score", str(src), "-o", str(out), "--jobs", "1", "--no-progress"]
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stderr=subprocess.DEVNULL)
        cli_secs = time.perf_counter() - start
        with out.open(encoding="utf-8") as f:
            cli_rows = sum(1 for _ in f)
        if cli_rows != len(texts):
            raise SystemExit(f"the CLI wrote {cli_rows} rows for {len(texts)} messages")

    from redflag.training import train

    start = time.perf_counter()
    train(examples, folds=2)
    train_secs = time.perf_counter() - start

    n = len(texts)
    med_naive = statistics.median(naive_one)
    med_rf = statistics.median(rf_one)
    p99_rf = statistics.quantiles(rf_one, n=100)[98]
    print(f"{n} messages ({args.single} one at a time); fastest of {args.rounds} rounds")
    print(f"  ceiling  fugashi parse          {_rate(n, ceiling)}")
    print(f"  floor    parse + split          {_rate(n, split_all)}  = {ceiling / split_all:.2f}x ceiling")
    print(f"  floor    normalize, parse, split{_rate(n, first_steps)}  = {ceiling / first_steps:.2f}x ceiling")
    print(f"  anchor   naive pipeline batch   {_rate(n, naive_batch)}  = {ceiling / naive_batch:.2f}x ceiling")
    print(
        f"  redflag  score_many             {_rate(n, rf_batch)}  = {ceiling / rf_batch:.2f}x ceiling, "
        f"{naive_batch / rf_batch:.2f}x anchor"
    )
    print(f"  anchor   predict_proba([t])     median {med_naive * 1e3:.3f} ms")
    print(
        f"  redflag  score(t)               median {med_rf * 1e3:.3f} ms, p99 {p99_rf * 1e3:.3f} ms "
        f"= {med_naive / med_rf:.2f}x faster than the anchor"
    )
    print(
        f"  redflag  CLI score FILE --jobs 1 {_rate(n, cli_secs)}  = {ceiling / cli_secs:.2f}x ceiling, "
        f"{naive_batch / cli_secs:.2f}x anchor (start-up, loading, evidence and writing included)"
    )
    print(f"  import redflag + load default model: {load_secs:.2f} s")
    print(
        f"  training on the shipped corpus ({len(examples)} messages): redflag {train_secs:.1f} s "
        f"(2-fold validation + final fit), naive pipeline {naive_train:.1f} s (one fit)"
    )


if __name__ == "__main__":
    main()
