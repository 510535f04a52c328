"""``redflag score INPUT [-o OUTPUT]``: score every row of a file, in order, one output row each."""

from __future__ import annotations

import argparse
import csv
import json
import multiprocessing
import os
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import nullcontext
from itertools import chain, islice
from pathlib import Path
from typing import IO, Any

from ..io import Row, read_rows
from ..labels import LABELS
from ..pii import mask, mask_assessment
from ..results import Assessment
from ..scorer import Scorer
from ._common import add_model_argument, load_scorer

CHUNK = 512


def add_parser(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "score",
        help="score a JSONL/CSV/TSV file of messages",
        description="Score each row of INPUT (.jsonl, .csv, .tsv, or - for JSONL on stdin). "
        "Output: one JSON object per input row, in input order (CSV when OUTPUT ends in .csv).",
    )
    p.add_argument("input", metavar="INPUT")
    p.add_argument("-o", "--output", default="-", metavar="OUTPUT", help="output path (default: stdout, JSONL)")
    p.add_argument("--text-column", default="text")
    p.add_argument("--id-column", default="id")
    p.add_argument("--format", choices=("jsonl", "csv", "tsv"), help="input format (default: from the extension)")
    p.add_argument("--encoding", default="auto", help="input encoding (default: auto = UTF-8, UTF-8 BOM or CP932)")
    p.add_argument(
        "--allow",
        action="append",
        default=[],
        metavar="WORD",
        help="a word that is the job's subject (e.g. LINEスタンプ); repeatable",
    )
    p.add_argument("--no-evidence", action="store_true", help="leave evidence out (faster, smaller output)")
    p.add_argument(
        "--mask-pii",
        action="store_true",
        help="replace phone numbers, e-mail addresses and chat IDs in evidence and carried-through columns",
    )
    p.add_argument("--strict", action="store_true", help="stop at the first row that cannot be scored (exit 1)")
    p.add_argument("--no-summary", action="store_true", help="do not print the summary to stderr")
    p.add_argument("--no-progress", action="store_true", help="no progress bar (it shows only on a terminal)")
    p.add_argument(
        "-j",
        "--jobs",
        type=int,
        default=1,
        metavar="N",
        help="worker processes (0 = all cores); output is identical to --jobs 1",
    )
    add_model_argument(p)
    p.set_defaults(func=run)


def _chunks(rows: Iterable[Row], size: int) -> Iterator[list[Row]]:
    it = iter(rows)
    while chunk := list(islice(it, size)):
        yield chunk


def score_rows(scorer: Scorer, rows: list[Row], *, allow: list[str], explain: bool) -> list[Assessment | None]:
    """Score the usable rows of a chunk together; rows with an error (or a bad text) get None."""
    for row in rows:
        if row.error is None:
            if not isinstance(row.text, str):
                kind = "missing" if row.text is None else f"not text ({type(row.text).__name__})"
                row.error = f"line {row.line}: message is {kind}"
            elif not row.text.strip():
                row.error = f"line {row.line}: message is empty"
    good = [r for r in rows if r.error is None]
    try:
        done = iter(scorer.score_many([r.text for r in good], allow=allow, explain=explain))
        return [next(done) if r.error is None else None for r in rows]
    except Exception:  # one bad row must not sink the chunk: fall back to row by row
        out: list[Assessment | None] = []
        for r in rows:
            if r.error is not None:
                out.append(None)
                continue
            try:
                out.append(scorer.score(r.text, allow=allow, explain=explain))
            except Exception as exc:
                r.error = f"line {r.line}: could not be scored: {type(exc).__name__}: {exc}"
                out.append(None)
        return out


def result_dict(row: Row, a: Assessment | None) -> dict[str, Any]:
    out: dict[str, Any] = {"id": row.id}
    if a is None:
        out.update(labels=None, scores=None, risk=None, level=None, evidence=None)
    else:
        d = a.to_dict()
        out.update(labels=d["labels"], scores=d["scores"], risk=d["risk"], level=d["level"], evidence=d["evidence"])
        if a.truncated:
            out["truncated"] = True
    out["error"] = row.error
    return out


class _Writer:
    def __init__(self, handle: IO[str], as_csv: bool, mask_pii: bool = False) -> None:
        self.handle = handle
        self.as_csv = as_csv
        self.mask_pii = mask_pii
        self.csv: Any = None

    def write(self, row: Row, a: Assessment | None) -> None:
        if self.mask_pii:
            row.extra = {k: mask(v) if isinstance(v, str) else v for k, v in row.extra.items()}
            a = mask_assessment(a) if a is not None else None
        d = result_dict(row, a)
        if not self.as_csv:
            self.handle.write(json.dumps(d, ensure_ascii=False) + "\n")
            return
        flat: dict[str, Any] = {"id": d["id"], **row.extra}
        flat["labels"] = ";".join(d["labels"]) if d["labels"] is not None else ""
        flat["risk"] = d["risk"] if d["risk"] is not None else ""
        flat["level"] = d["level"] or ""
        for label in LABELS:
            flat[f"score_{label}"] = d["scores"][label] if d["scores"] else ""
        flat["evidence"] = json.dumps(d["evidence"], ensure_ascii=False) if d["evidence"] is not None else ""
        flat["error"] = d["error"] or ""
        if self.csv is None:
            self.csv = csv.DictWriter(self.handle, fieldnames=list(flat), extrasaction="ignore")
            self.csv.writeheader()
        self.csv.writerow(flat)


_worker: dict[str, Any] = {}


def _init_worker(model: str | None, sha256: str | None, allow: list[str], explain: bool) -> None:
    """Load the model once per worker process."""
    _worker.update(scorer=Scorer.load(model, sha256=sha256), allow=allow, explain=explain)


def _score_chunk(rows: list[Row]) -> tuple[list[Row], list[Assessment | None]]:
    return rows, score_rows(_worker["scorer"], rows, allow=_worker["allow"], explain=_worker["explain"])


def _progress(enabled: bool) -> Any:
    from tqdm import tqdm

    return tqdm(unit=" rows", file=sys.stderr, disable=not enabled, smoothing=0.1, mininterval=0.5)


def run(args: argparse.Namespace) -> int:
    scorer = load_scorer(args)
    as_csv = args.output != "-" and Path(args.output).suffix.lower() == ".csv"
    rows = read_rows(
        args.input, text_column=args.text_column, id_column=args.id_column, fmt=args.format, encoding=args.encoding
    )
    started = time.perf_counter()
    n = errors = 0
    flagged = dict.fromkeys(LABELS, 0)
    explain = not args.no_evidence
    jobs = args.jobs if args.jobs > 0 else (os.cpu_count() or 1)
    # Read the first chunk before creating the output, so that an unreadable input (missing
    # column, bad encoding) fails without leaving an empty output file behind.
    chunks = _chunks(rows, CHUNK)
    first = next(chunks, [])
    all_chunks = chain([first], chunks)
    pool = None
    if jobs > 1:
        ctx = multiprocessing.get_context("spawn")
        pool = ctx.Pool(jobs, _init_worker, (args.model, args.model_sha256, args.allow, explain))
        # imap keeps input order; workers score chunks while this process writes.
        results: Iterator[tuple[list[Row], list[Assessment | None]]] = pool.imap(_score_chunk, all_chunks)
    else:
        results = ((c, score_rows(scorer, c, allow=args.allow, explain=explain)) for c in all_chunks)
    # Lone surrogates (from JSON escapes such as "\ud800") cannot be encoded as UTF-8; written as
    # backslash escapes they stay valid JSON escapes, and no row is lost over one character.
    if args.output == "-":
        if hasattr(sys.stdout, "reconfigure"):
            sys.stdout.reconfigure(errors="backslashreplace")
        out_ctx: Any = nullcontext(sys.stdout)
    else:
        out_ctx = open(args.output, "w", encoding="utf-8", newline="", errors="backslashreplace")  # noqa: SIM115 - closed by the with below
    show = sys.stderr.isatty() and not args.no_progress
    try:
        with out_ctx as handle, _progress(show) as bar:
            writer = _Writer(handle, as_csv, args.mask_pii)
            for chunk, scored in results:
                for row, a in zip(chunk, scored):
                    if row.error is not None and args.strict:
                        print(f"redflag score: error: {row.error}", file=sys.stderr)
                        return 1
                    writer.write(row, a)
                    n += 1
                    errors += row.error is not None
                    for label in a.labels if a else ():
                        flagged[label] += 1
                bar.update(len(chunk))
    finally:
        if pool is not None:
            pool.terminate()
    if not args.no_summary:
        secs = time.perf_counter() - started
        per = ", ".join(f"{k}={v}" for k, v in flagged.items())
        print(
            f"redflag score: {n} rows, {errors} errors, flagged: {per}; {n / secs if secs else 0:.0f} rows/s",
            file=sys.stderr,
        )
    return 0
