"""Batch scoring at scale: rows/s and peak memory of ``redflag score`` on a large CSV, per ``--jobs``.

    python benchmarks/batch.py [--rows 1000000] [--jobs 1,2] [--shared ../shared] [--tmp DIR]

Builds, in a temporary directory (never in the repository), a CSV of ``--rows`` real chat
utterances (RealPersonaChat from ``../shared/corpora``, repeated as often as needed, each row
with its own id), then runs ``redflag score INPUT -o OUT.jsonl --jobs N`` as a subprocess for
each N, and reports:

- wall time and rows/s of the whole command (start-up, model loading and workers included), and
  the rows/s redflag itself prints in its summary;
- peak memory, measured from outside while the command runs:
  * ``main``: the peak RSS of the main process (its ``VmHWM``, exact);
  * ``tree``: the highest sum of RSS over the main process and all its worker processes,
    sampled every ``--interval`` seconds (pages shared between processes, such as the MeCab
    dictionary and the Python libraries, are counted once per process);
  * ``tree PSS``: the same sum with shared pages divided between the processes that share them
    (Linux only), the closest figure to what the command takes from the machine;
- whether every run wrote one output row per input row, and the same bytes as the first run;
- the speed ratio of each run to the first (target: jobs=2 at least 1.7x jobs=1) and each
  memory figure against the 400 MB target.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
TARGET_MB = 400
TARGET_RATIO = 1.7
MB = 1 << 20


def build_csv(corpus: Path, rows: int, path: Path) -> None:
    """``rows`` utterances of ``corpus`` (JSONL, ``text`` field, gzip), repeated, as ``id,text``."""
    with gzip.open(corpus, "rt", encoding="utf-8") as f:
        texts = [json.loads(line)["text"] for line in f if line.strip()]
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["id", "text"])
        for i in range(rows):
            writer.writerow([f"r{i:07d}", texts[i % len(texts)]])


def _hwm(proc: psutil.Process) -> int:
    """Peak RSS of a process so far (``VmHWM``), or its current RSS where that is not available."""
    try:
        with open(f"/proc/{proc.pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return int(proc.memory_info().rss)


def run(cmd: list[str], interval: float) -> dict[str, object]:
    """Run ``cmd``, sampling the memory of its process tree until it exits."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    main = psutil.Process(proc.pid)
    main_peak = tree_peak = pss_peak = 0
    peaks: dict[int, int] = {}  # per process: its own peak RSS
    cpu: dict[int, float] = {}  # per process: user + system CPU seconds so far
    load_before = os.getloadavg()[0]
    workers = 0
    while proc.poll() is None:
        try:
            tree = [main, *main.children(recursive=True)]
        except psutil.NoSuchProcess:
            break
        rss = pss = 0
        for p in tree:
            try:
                rss += p.memory_info().rss
                pss += getattr(p.memory_full_info(), "pss", 0)
                peaks[p.pid] = max(peaks.get(p.pid, 0), _hwm(p))
                times = p.cpu_times()
                cpu[p.pid] = times.user + times.system
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
        main_peak = peaks.get(main.pid, main_peak)
        workers = max(workers, len(tree) - 1)
        tree_peak, pss_peak = max(tree_peak, rss), max(pss_peak, pss)
        time.sleep(interval)
    _, err = proc.communicate()
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed with exit code {proc.returncode}:\n{err}")
    own = re.search(r"([0-9]+) rows/s", err)
    return {
        "wall": wall,
        "own_rate": float(own.group(1)) if own else float("nan"),
        "main_peak": main_peak,
        "tree_peak": tree_peak,
        "pss_peak": pss_peak,
        "sum_of_peaks": sum(peaks.values()),
        "processes": workers + 1,
        "cpu": sum(cpu.values()),
        "load": (load_before, os.getloadavg()[0]),
    }


def digest(path: Path) -> tuple[str, int]:
    """SHA-256 and line count of a file."""
    h = hashlib.sha256()
    lines = 0
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
            lines += block.count(b"\n")
    return h.hexdigest(), lines


def _met(ok: bool) -> str:
    return "met" if ok else "NOT met"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000, help="rows in the CSV (default 1,000,000)")
    ap.add_argument("--jobs", default="1,2", help="comma-separated --jobs values to run (default 1,2)")
    ap.add_argument("--shared", default=str(ROOT.parent / "shared"))
    ap.add_argument("--tmp", default=None, help="directory for the temporary CSV and outputs (default: system temp)")
    ap.add_argument("--interval", type=float, default=0.1, help="seconds between memory samples")
    args = ap.parse_args()
    jobs = [int(j) for j in args.jobs.split(",")]

    with tempfile.TemporaryDirectory(prefix="redflag-batch-", dir=args.tmp) as tmp:
        src = Path(tmp) / "input.csv"
        start = time.perf_counter()
        build_csv(Path(args.shared) / "corpora" / "real_persona_chat.jsonl.gz", args.rows, src)
        print(
            f"input: {args.rows:,} rows of RealPersonaChat, {src.stat().st_size / MB:.0f} MB CSV "
            f"(built in {time.perf_counter() - start:.0f} s); {os.cpu_count()} cores"
        )
        results = []
        for j in jobs:
            out = Path(tmp) / f"out-jobs{j}.jsonl"
            cmd = [sys.executable, "-m", "redflag.cli.main", "score", str(src), "-o", str(out)]
            r = run([*cmd, "--jobs", str(j), "--no-progress"], args.interval)
            r["jobs"] = j
            r["sha256"], r["lines"] = digest(out)
            out.unlink()  # outputs are large: keep only their digest
            results.append(r)

    print()
    print("memory: main = peak RSS of the main process (VmHWM); tree = highest sampled sum of RSS of")
    print("the main and worker processes; tree PSS = the same with shared pages divided between them")
    print()
    header = f"{'jobs':>4} {'procs':>5} {'wall s':>8} {'cpu s':>7} {'rows/s':>8} {'own rows/s':>10} {'speed':>6}"
    header += f" {'main MB':>8} {'tree MB':>8} {'tree PSS MB':>11} {'rows out':>9} {'same bytes':>10}"
    print(header)
    base = results[0]
    for r in results:
        rate = args.rows / r["wall"]  # type: ignore[operator]
        ratio = base["wall"] / r["wall"]  # type: ignore[operator]
        print(
            f"{r['jobs']:>4} {r['processes']:>5} {r['wall']:>8.1f} {r['cpu']:>7.1f} {rate:>8.0f} {r['own_rate']:>10.0f}"
            f" {ratio:>5.2f}x"
            f" {r['main_peak'] / MB:>8.0f} {r['tree_peak'] / MB:>8.0f} {r['pss_peak'] / MB:>11.0f}"  # type: ignore[operator]
            f" {r['lines']:>9,} {'yes' if r['sha256'] == base['sha256'] else 'NO':>10}"
        )
    print()
    loads = ", ".join(f"jobs={r['jobs']} {r['load'][0]:.1f} -> {r['load'][1]:.1f}" for r in results)  # type: ignore[index]
    print(f"1-minute load average before -> after each run (other work on the machine): {loads}")
    print("cpu s = CPU seconds (user + system) of the main and worker processes together")
    rows_ok = all(r["lines"] == args.rows for r in results)
    print(f"one output row per input row: {_met(rows_ok)}")
    print(f"same bytes for every --jobs: {_met(all(r['sha256'] == base['sha256'] for r in results))}")
    for r in results[1:]:
        ratio = base["wall"] / r["wall"]  # type: ignore[operator]
        print(
            f"speed jobs={r['jobs']} / jobs={base['jobs']}: {ratio:.2f}x "
            f"(target >= {TARGET_RATIO}x: {_met(ratio >= TARGET_RATIO)})"
        )
    for r in results:
        main_mb, tree_mb = r["main_peak"] / MB, r["tree_peak"] / MB  # type: ignore[operator]
        print(
            f"peak memory jobs={r['jobs']}: main {main_mb:.0f} MB ({_met(main_mb <= TARGET_MB)}), "
            f"tree {tree_mb:.0f} MB ({_met(tree_mb <= TARGET_MB)}), "
            f"sum of per-process peaks {r['sum_of_peaks'] / MB:.0f} MB; target <= {TARGET_MB} MB"  # type: ignore[operator]
        )


if __name__ == "__main__":
    main()
