"""``redflag score INPUT [-o OUTPUT]``: score every row of a file, in order, one output row each.

The work is split in chunks of rows. Each chunk is scored and rendered (masked, turned into its
output line or record) in one place: this process (``--jobs 1``), a pool of worker processes
(``--jobs N``) or the workers of a Dask cluster (``--scheduler``). This process reads the input,
hands out chunks, and writes the rendered rows back in input order. Only a bounded number of
chunks is in flight at a time, so memory does not grow with the number of rows, and the output
is the same bytes whichever way the chunks were scored.
"""

from __future__ import annotations

import argparse
import csv
import json
import multiprocessing
import os
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from itertools import chain, islice
from pathlib import Path
from typing import IO, Any

from ..io import FORMATS, InputError, ParquetSink, Row, input_format, parquet_schema, read_rows, require_pyarrow
from ..labels import LABELS
from ..pii import mask, mask_assessment
from ..results import Assessment
from ..scorer import Scorer
from ._common import add_model_argument, add_platform_argument, check_model, load_scorer

CHUNK = 512
#: Without an explicit ``--jobs``, worker processes are started only for inputs of more than
#: this many chunks: for fewer rows, starting them (each loads the model) costs more than it saves.
AUTO_MIN_CHUNKS = 8

#: One rendered output row: the JSONL line or the CSV/Parquet record, the row's error, its labels.
Rendered = tuple[Any, str | None, tuple[str, ...]]


def add_parser(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "score",
        help="score a JSONL/CSV/TSV/Parquet file of messages",
        description="Score each row of INPUT (.jsonl, .csv, .tsv, .parquet, or - for JSONL on stdin). "
        "Output: one JSON object per input row, in input order (CSV when OUTPUT ends in .csv, "
        "Parquet when it ends in .parquet).",
    )
    p.add_argument("input", metavar="INPUT")
    p.add_argument("-o", "--output", default="-", metavar="OUTPUT", help="output path (default: stdout, JSONL)")
    p.add_argument("--text-column", default="text")
    p.add_argument("--id-column", default="id")
    p.add_argument("--format", choices=FORMATS, help="input format (default: from the extension)")
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
        default=None,
        metavar="N",
        help="worker processes (default and 0: all cores; without --jobs, inputs of up to "
        f"{AUTO_MIN_CHUNKS * CHUNK} rows are scored in this process); output is identical to --jobs 1",
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="score on an existing Dask cluster (e.g. tcp://host:8786; needs redflag[dask]); "
        "output is identical to --jobs 1",
    )
    p.add_argument(
        "--thread-column",
        metavar="COL",
        help="score conversations: rows with the same value in COL form a thread, in file order; each "
        "row also gets the thread's assessment up to that row (thread_labels, thread_risk, thread_level, "
        "thread_escalating, thread_contributors). Runs in one process: each message depends on the ones before",
    )
    add_platform_argument(p)
    add_model_argument(p)
    p.set_defaults(func=run)


def _chunks(rows: Iterable[Row], size: int) -> Iterator[list[Row]]:
    it = iter(rows)
    while chunk := list(islice(it, size)):
        yield chunk


def check_text(row: Row) -> None:
    """Set ``row.error`` when a row without an error yet has no usable text."""
    if row.error is not None:
        return
    if not isinstance(row.text, str):
        kind = "missing" if row.text is None else f"not text ({type(row.text).__name__})"
        row.error = f"{row.where}: message is {kind}"
    elif not row.text.strip():
        row.error = f"{row.where}: message is empty"


def score_rows(
    scorer: Scorer, rows: list[Row], *, allow: list[str], explain: bool, platform: str = "generic"
) -> list[Assessment | None]:
    """Score the usable rows of a chunk together; rows with an error (or a bad text) get None."""
    for row in rows:
        check_text(row)
    good = [r for r in rows if r.error is None]
    try:
        done = iter(scorer.score_many([r.text for r in good], allow=allow, explain=explain, platform=platform))
        return [next(done) if r.error is None else None for r in rows]
    except Exception:  # one bad row must not sink the chunk: fall back to row by row
        out: list[Assessment | None] = []
        for r in rows:
            if r.error is not None:
                out.append(None)
                continue
            try:
                out.append(scorer.score(r.text, allow=allow, explain=explain, platform=platform))
            except Exception as exc:
                r.error = f"{r.where}: could not be scored: {type(exc).__name__}: {exc}"
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
    thread = getattr(row, "thread", None)
    if thread is not None:
        out.update(thread)
    out["error"] = row.error
    return out


#: Thread fields added to each row in ``--thread-column`` mode (see ThreadRows).
THREAD_FIELDS = ("thread", "thread_labels", "thread_risk", "thread_level", "thread_escalating", "thread_contributors")


class ThreadRows:
    """``--thread-column``: one Conversation per thread value, fed the rows in file order.

    Each row is scored as the next message of its thread (so conditions stated earlier in the
    thread count), and carries the thread's assessment up to and including that row; the last
    row of a thread carries the verdict on the whole thread. A row that cannot be scored is
    reported as usual and does not enter its thread.
    """

    def __init__(self, scorer: Scorer, column: str, *, allow: list[str], explain: bool, platform: str) -> None:
        self.scorer = scorer
        self.column = column
        self.allow = allow
        self.explain = explain
        self.platform = platform
        self.threads: dict[Any, tuple[Any, list[Any]]] = {}  # value -> (Conversation, row ids)

    def score(self, rows: list[Row]) -> list[Assessment | None]:
        out: list[Assessment | None] = []
        for row in rows:
            if row.error is None and self.column not in row.extra:
                row.error = f"{row.where}: no thread column {self.column!r}"
            check_text(row)
            if row.error is not None:
                row.thread = dict.fromkeys(THREAD_FIELDS)  # type: ignore[attr-defined]
                row.thread["thread"] = row.extra.get(self.column)  # type: ignore[attr-defined]
                out.append(None)
                continue
            key = row.extra[self.column]
            key = key if isinstance(key, (str, int, float, bool)) or key is None else str(key)
            if key not in self.threads:
                conv = self.scorer.conversation(platform=self.platform, allow=self.allow, explain=self.explain)
                self.threads[key] = (conv, [])
            conv, ids = self.threads[key]
            try:
                t = conv.add(row.text)
            except Exception as exc:
                row.error = f"{row.where}: could not be scored: {type(exc).__name__}: {exc}"
                row.thread = {**dict.fromkeys(THREAD_FIELDS), "thread": key}  # type: ignore[attr-defined]
                out.append(None)
                continue
            ids.append(row.id)
            row.thread = {  # type: ignore[attr-defined]
                "thread": key,
                "thread_labels": list(t.labels),
                "thread_risk": t.risk,
                "thread_level": t.level,
                "thread_escalating": t.escalating,
                "thread_contributors": {k: [ids[i] for i in v] for k, v in t.contributors.items()},
            }
            out.append(t.messages[-1])
        return out


def output_kind(path: str) -> str:
    """``jsonl``, ``csv`` or ``parquet``, from the output path's extension (stdout is JSONL)."""
    suffix = Path(path).suffix.lower() if path != "-" else ""
    return {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}.get(suffix, "jsonl")


def render(row: Row, a: Assessment | None, kind: str, mask_pii: bool = False) -> Any:
    """One output row: a JSONL line, a CSV record (flat text), or a Parquet record (typed)."""
    if mask_pii:
        row.extra = {k: mask(v) if isinstance(v, str) else v for k, v in row.extra.items()}
        a = mask_assessment(a) if a is not None else None
    d = result_dict(row, a)
    if kind == "jsonl":
        # default=str: an id read from Parquet may be a date, a decimal or bytes.
        return json.dumps(d, ensure_ascii=False, default=str) + "\n"
    if kind == "parquet":
        record: dict[str, Any] = {"id": d["id"], **row.extra}
        record.update(labels=d["labels"], risk=d["risk"], level=d["level"])
        for label in LABELS:
            record[f"score_{label}"] = d["scores"][label] if d["scores"] else None
        record.update(evidence=d["evidence"])
        if "thread" in d:
            record.update({k: d[k] for k in THREAD_FIELDS})
            record["thread"] = None if d["thread"] is None else str(d["thread"])
            record["thread_contributors"] = json.dumps(d["thread_contributors"], ensure_ascii=False, default=str)
        record["error"] = d["error"]
        return record
    flat: dict[str, Any] = {"id": d["id"], **row.extra}
    flat["labels"] = ";".join(d["labels"]) if d["labels"] is not None else ""
    flat["risk"] = d["risk"] if d["risk"] is not None else ""
    flat["level"] = d["level"] or ""
    for label in LABELS:
        flat[f"score_{label}"] = d["scores"][label] if d["scores"] else ""
    flat["evidence"] = json.dumps(d["evidence"], ensure_ascii=False) if d["evidence"] is not None else ""
    if "thread" in d:
        flat["thread"] = d["thread"]
        flat["thread_labels"] = ";".join(d["thread_labels"])
        flat.update(thread_risk=d["thread_risk"], thread_level=d["thread_level"])
        flat["thread_escalating"] = d["thread_escalating"]
        flat["thread_contributors"] = json.dumps(d["thread_contributors"], ensure_ascii=False, default=str)
    flat["error"] = d["error"] or ""
    return flat


def process_chunk(
    scorer: Scorer,
    rows: list[Row],
    *,
    allow: list[str],
    explain: bool,
    kind: str,
    mask_pii: bool,
    platform: str = "generic",
) -> list[Rendered]:
    """Score and render a chunk: all the per-row work, wherever it runs."""
    scored = score_rows(scorer, rows, allow=allow, explain=explain, platform=platform)
    return [(render(r, a, kind, mask_pii), r.error, a.labels if a else ()) for r, a in zip(rows, scored)]


# ------------------------------------------------------------------ writers


class _TextWriter:
    """JSONL lines as they are, or CSV records under a header taken from the first record."""

    def __init__(self, handle: IO[str], kind: str, *, owned: bool) -> None:
        self.handle = handle
        self.kind = kind
        self.owned = owned
        self.csv: Any = None

    def write(self, rendered: Any) -> None:
        if self.kind == "jsonl":
            self.handle.write(rendered)
            return
        if self.csv is None:
            self.csv = csv.DictWriter(self.handle, fieldnames=list(rendered), extrasaction="ignore")
            self.csv.writeheader()
        self.csv.writerow(rendered)

    def close(self) -> None:
        if self.owned:
            self.handle.close()


def parquet_result_types() -> dict[str, Any]:
    """Arrow types of the result columns of a Parquet output (the columns of ``score_frame``)."""
    pa = require_pyarrow("writing Parquet")
    evidence = pa.struct(
        [
            ("label", pa.string()),
            ("rule", pa.string()),
            ("start", pa.int64()),
            ("end", pa.int64()),
            ("text", pa.string()),
            ("reason", pa.string()),
            ("reason_en", pa.string()),
        ]
    )
    types: dict[str, Any] = {"labels": pa.list_(pa.string()), "risk": pa.float64(), "level": pa.string()}
    types.update({f"score_{label}": pa.float64() for label in LABELS})
    types.update(evidence=pa.list_(evidence))
    types.update(
        thread=pa.string(),
        thread_labels=pa.list_(pa.string()),
        thread_risk=pa.float64(),
        thread_level=pa.string(),
        thread_escalating=pa.bool_(),
        thread_contributors=pa.string(),
    )
    types["error"] = pa.string()
    return types


class _ParquetWriter:
    """Parquet records; the columns are those of the first record."""

    def __init__(self, path: str, input_types: dict[str, Any]) -> None:
        self.path = path
        self.input_types = input_types
        self.sink: ParquetSink | None = None

    def _columns(self, first: dict[str, Any]) -> dict[str, Any]:
        results = parquet_result_types()
        # Carried-through columns keep their Parquet type when the input was Parquet; from
        # CSV/TSV/JSONL they are text.
        string = require_pyarrow("writing Parquet").string()
        carried = {k: self.input_types.get(k, string) for k in first if k not in results}
        return {**carried, **{k: v for k, v in results.items() if k in first or not k.startswith("thread")}}

    def write(self, rendered: dict[str, Any]) -> None:
        if self.sink is None:
            self.sink = ParquetSink(self.path, self._columns(rendered))
        self.sink.write(rendered)

    def close(self) -> None:
        if self.sink is None:  # no rows: still a valid file, with the result columns
            self.sink = ParquetSink(self.path, self._columns({"id": None}))
        self.sink.close()


# ------------------------------------------------------------------ where chunks are scored


def _in_order(
    chunks: Iterable[list[Row]], submit: Callable[[list[Row]], Callable[[], list[Rendered]]], limit: int
) -> Iterator[list[Rendered]]:
    """Results of ``submit(chunk)()`` in input order, with at most ``limit`` chunks in flight."""
    pending: deque[Callable[[], list[Rendered]]] = deque()
    for chunk in chunks:
        pending.append(submit(chunk))
        if len(pending) >= limit:
            yield pending.popleft()()
    while pending:
        yield pending.popleft()()


_worker: dict[str, Any] = {}


def _init_worker(
    model: str | None,
    sha256: str | None,
    allow: list[str],
    explain: bool,
    kind: str,
    mask_pii: bool,
    platform: str,
) -> None:
    # The model itself is loaded by the first chunk (once per process, see worker_scorer): an
    # error raised here would only make the pool start the worker again, while one raised
    # when scoring a chunk reaches the main process and is reported.
    _worker.update(
        model=model, sha256=sha256, allow=allow, explain=explain, kind=kind, mask_pii=mask_pii, platform=platform
    )


def _score_chunk(rows: list[Row]) -> list[Rendered]:
    return score_chunk_on_worker(rows, **_worker)


def score_chunk_on_worker(
    rows: list[Row],
    model: str | None,
    sha256: str | None,
    allow: list[str],
    explain: bool,
    kind: str,
    mask_pii: bool,
    platform: str = "generic",
) -> list[Rendered]:
    """Run on a Dask or pool worker: score and render a chunk with the worker's cached model."""
    from ..dask import worker_scorer

    scorer = worker_scorer(model, sha256)
    return process_chunk(scorer, rows, allow=allow, explain=explain, kind=kind, mask_pii=mask_pii, platform=platform)


def _connect(address: str) -> Any:
    try:
        from distributed import Client
    except ImportError as exc:
        raise InputError("--scheduler needs dask.distributed: pip install 'redflag[dask]'") from exc
    try:
        return Client(address, timeout="30s", set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise InputError(f"cannot connect to the Dask scheduler at {address}: {exc}") from exc


def _progress(enabled: bool) -> Any:
    from tqdm import tqdm

    return tqdm(unit=" rows", file=sys.stderr, disable=not enabled, smoothing=0.1, mininterval=0.5)


def run(args: argparse.Namespace) -> int:
    kind = output_kind(args.output)
    input_types: dict[str, Any] = {}
    if kind == "parquet":
        require_pyarrow("writing Parquet")
        if input_format(args.input, args.format) == "parquet":
            input_types = {f.name: f.type for f in parquet_schema(args.input)}
    explain = not args.no_evidence
    # Checked here even when workers do the scoring, so that a bad model fails before any work;
    # this also pins args.model_sha256 to the bytes accepted here, which the workers then load.
    check_model(args)
    rows = read_rows(
        args.input, text_column=args.text_column, id_column=args.id_column, fmt=args.format, encoding=args.encoding
    )
    started = time.perf_counter()
    n = errors = 0
    flagged = dict.fromkeys(LABELS, 0)
    chunks: Iterator[list[Row]] = _chunks(rows, CHUNK)
    if args.jobs is not None and args.jobs < 0:
        raise InputError(f"--jobs {args.jobs}: give a number of processes, or 0 for all cores")
    jobs = args.jobs if args.jobs else (os.cpu_count() or 1)
    if args.jobs is None and jobs > 1 and args.scheduler is None:
        ahead = list(islice(chunks, AUTO_MIN_CHUNKS + 1))
        chunks = chain(ahead, chunks)
        if len(ahead) <= AUTO_MIN_CHUNKS:
            jobs = 1
    pool = client = None
    results: Iterator[list[Rendered]]
    if args.thread_column is not None:
        jobs = 1  # each message depends on the ones before it in its thread
        if args.scheduler is not None:
            raise InputError("--thread-column runs in one process; it cannot be combined with --scheduler")
    # Only a run in this process loads the model here: with workers, each loads its own, and a
    # copy in this process would only take memory.
    scorer = load_scorer(args) if args.scheduler is None and jobs == 1 else None
    if args.thread_column is not None:
        assert scorer is not None
        threads = ThreadRows(scorer, args.thread_column, allow=args.allow, explain=explain, platform=args.platform)

        def thread_chunk(c: list[Row]) -> list[Rendered]:
            scored = threads.score(c)
            return [(render(r, a, kind, args.mask_pii), r.error, a.labels if a else ()) for r, a in zip(c, scored)]

        results = (thread_chunk(c) for c in chunks)
    elif args.scheduler is not None:
        client = _connect(args.scheduler)
        model = os.path.abspath(args.model) if args.model else None
        in_flight = 2 * max(1, sum(client.nthreads().values()))

        def remote(chunk: list[Row]) -> Callable[[], list[Rendered]]:
            future = client.submit(
                score_chunk_on_worker,
                chunk,
                model,
                args.model_sha256,
                args.allow,
                explain,
                kind,
                args.mask_pii,
                args.platform,
                pure=False,
            )
            return future.result  # type: ignore[no-any-return]

        results = _in_order(chunks, remote, in_flight)
    elif jobs > 1:
        ctx = multiprocessing.get_context("spawn")
        initargs = (args.model, args.model_sha256, args.allow, explain, kind, args.mask_pii, args.platform)
        pool = ctx.Pool(jobs, _init_worker, initargs)
        results = _in_order(chunks, lambda c: pool.apply_async(_score_chunk, (c,)).get, 2 * jobs)
    else:
        assert scorer is not None
        local = scorer
        results = (
            process_chunk(
                local, c, allow=args.allow, explain=explain, kind=kind, mask_pii=args.mask_pii, platform=args.platform
            )
            for c in chunks
        )
    show = sys.stderr.isatty() and not args.no_progress
    try:
        # The first chunk is scored before the output is created, so that an unreadable input
        # (missing column, bad encoding) or a bad model fails without leaving an empty file.
        first = next(results, [])
        writer: _TextWriter | _ParquetWriter
        if kind == "parquet":
            writer = _ParquetWriter(args.output, input_types)
        elif args.output == "-":
            # Lone surrogates (from JSON escapes such as "\ud800") cannot be encoded as UTF-8;
            # written as backslash escapes they stay valid JSON escapes, and no row is lost.
            if hasattr(sys.stdout, "reconfigure"):
                sys.stdout.reconfigure(errors="backslashreplace")
            writer = _TextWriter(sys.stdout, kind, owned=False)
        else:
            handle = open(args.output, "w", encoding="utf-8", newline="", errors="backslashreplace")  # noqa: SIM115 - closed by writer.close()
            writer = _TextWriter(handle, kind, owned=True)
        try:
            with _progress(show) as bar:
                for chunk in chain([first], results):
                    for rendered, error, labels in chunk:
                        if error is not None and args.strict:
                            print(f"redflag score: error: {error}", file=sys.stderr)
                            return 1
                        writer.write(rendered)
                        n += 1
                        errors += error is not None
                        for label in labels:
                            flagged[label] += 1
                    bar.update(len(chunk))
        finally:
            writer.close()
    finally:
        if pool is not None:
            pool.terminate()
        if client is not None:
            client.close()
    if not args.no_summary:
        secs = time.perf_counter() - started
        per = ", ".join(f"{k}={v}" for k, v in flagged.items())
        print(
            f"redflag score: {n} rows, {errors} errors, flagged: {per}; {n / secs if secs else 0:.0f} rows/s",
            file=sys.stderr,
        )
    return 0
