"""Reading message files (JSONL, CSV, TSV, Parquet) row by row, and writing results.

Every input row yields exactly one :class:`Row`, in order. A row that cannot be read (a broken
JSON line, a CSV row with the wrong number of fields, a missing or non-text message) carries
an ``error`` that says what was wrong and where (file, line), and the rows after it are still
read. Problems with the file as a whole (missing, a directory, undecodable, no text column)
raise :class:`InputError`.

Parquet goes through pyarrow (``pip install 'redflag[parquet]'``), read one record batch at a
time and written one row group at a time, so memory does not grow with the number of rows.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

__all__ = [
    "FORMATS",
    "InputError",
    "ParquetSink",
    "Row",
    "detect_encoding",
    "input_format",
    "parquet_schema",
    "read_rows",
    "require_pyarrow",
]

#: Input formats :func:`read_rows` reads.
FORMATS = ("jsonl", "csv", "tsv", "parquet")
#: Rows per record batch read from a Parquet file.
PARQUET_BATCH = 1024

# CSV cells in exports can be long (whole threads); the csv module's default limit is 128 KiB.
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


class InputError(Exception):
    """A file cannot be read at all. The message names the file (and line where it applies)."""


@dataclass
class Row:
    """One input row: where it was, its id and text, other columns, or why it is unusable.

    ``line`` is the line the row starts on in a text file, or the row number (from 1) in a
    Parquet file, which has no lines; ``where`` says which.
    """

    index: int
    line: int
    id: Any
    text: Any
    extra: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    unit: str = "line"
    #: The file the row came from (``<stdin>`` for standard input), for messages about it.
    source: str = ""

    @property
    def where(self) -> str:
        """``FILE: line N`` or ``FILE: row N``, for messages about this row."""
        return f"{self.source}: {self.unit} {self.line}" if self.source else f"{self.unit} {self.line}"


def input_format(path: str, fmt: str | None = None) -> str:
    if fmt:
        if fmt not in FORMATS:
            raise InputError(f"unknown input format {fmt!r}; use jsonl, csv, tsv or parquet")
        return fmt
    if path == "-":
        return "jsonl"
    suffix = Path(path).suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    if suffix == ".csv":
        return "csv"
    if suffix in (".tsv", ".tab"):
        return "tsv"
    if suffix in (".parquet", ".pq"):
        return "parquet"
    raise InputError(
        f"{path}: cannot tell the format from the extension {suffix!r}; pass --format jsonl|csv|tsv|parquet"
    )


def detect_encoding(head: bytes) -> str:
    """UTF-8 (with or without BOM) when the bytes decode as UTF-8, else CP932 (Shift_JIS)."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the sample is still UTF-8.
        if exc.start >= len(head) - 3 and exc.reason == "unexpected end of data":
            return "utf-8"
    try:
        head.decode("cp932")
        return "cp932"
    except UnicodeDecodeError:
        return "utf-8"


class _Lines:
    """Decoded lines of a byte stream, counted, so a decoding error names its line and column."""

    def __init__(self, raw: IO[bytes], label: str, encoding: str) -> None:
        self.raw = raw
        self.label = label
        self.encoding = encoding
        self.line_no = 0
        self._decode = codecs.getdecoder(encoding)

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        data = self.raw.readline()
        if not data:
            raise StopIteration
        self.line_no += 1
        if (
            self.line_no == 1
            and data.startswith(codecs.BOM_UTF8)
            and self.encoding.replace("_", "-")
            in (
                "utf-8",
                "utf8",
            )
        ):
            data = data[len(codecs.BOM_UTF8) :]
        try:
            return str(self._decode(data)[0])
        except UnicodeDecodeError as exc:
            raise InputError(
                f"{self.label}: line {self.line_no}, column {exc.start + 1} (byte): bytes are not valid "
                f"{self.encoding} ({exc.reason}); pass --encoding (utf-8, utf-8-sig, cp932, shift_jis, euc-jp)"
            ) from exc

    def close(self) -> None:
        self.raw.close()


def _open_lines(path: str, encoding: str) -> _Lines:
    if path == "-":
        raw: IO[bytes] = sys.stdin.buffer
        label = "<stdin>"
    else:
        raw = open(path, "rb")  # noqa: SIM115 - closed by read_rows
        label = path
    buffered = raw if isinstance(raw, io.BufferedReader) else io.BufferedReader(raw)  # type: ignore[arg-type]
    if encoding == "auto":
        encoding = detect_encoding(buffered.peek(1 << 16)[: 1 << 16])
    try:
        codecs.lookup(encoding)
    except LookupError as exc:
        raise InputError(f"{label}: unknown encoding {encoding!r}") from exc
    return _Lines(buffered, label, encoding)


def read_rows(
    path: str,
    *,
    text_column: str = "text",
    id_column: str = "id",
    fmt: str | None = None,
    encoding: str = "auto",
) -> Iterator[Row]:
    """Yield one :class:`Row` per input row of ``path`` (``-`` is JSONL on stdin)."""
    if path != "-":
        p = Path(path)
        if p.is_dir():
            raise InputError(f"{path}: is a directory, expected a file")
        if not p.exists():
            raise InputError(f"{path}: no such file")
        if p.stat().st_size == 0:
            raise InputError(f"{path}: empty file, nothing to score")
    kind = input_format(path, fmt)
    if kind == "parquet":
        if path == "-":
            raise InputError("<stdin>: Parquet cannot be read from stdin; pass a file")
        yield from _read_parquet(path, text_column, id_column)
        return
    lines = _open_lines(path, encoding)
    try:
        if kind == "jsonl":
            yield from _read_jsonl(lines, text_column, id_column)
        else:
            yield from _read_csv(lines, text_column, id_column, "\t" if kind == "tsv" else ",")
    finally:
        if path != "-":
            lines.close()


def _read_jsonl(lines: _Lines, text_col: str, id_col: str) -> Iterator[Row]:
    label = lines.label
    index = 0
    for line in lines:
        line_no = lines.line_no
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            yield Row(
                index,
                line_no,
                None,
                None,
                error=f"{label}: line {line_no}, column {exc.colno}: invalid JSON: {exc.msg}",
            )
            index += 1
            continue
        if not isinstance(obj, dict):
            yield Row(
                index,
                line_no,
                None,
                None,
                error=f"{label}: line {line_no}: expected a JSON object, got {type(obj).__name__}",
            )
            index += 1
            continue
        extra = {k: v for k, v in obj.items() if k not in (text_col, id_col)}
        row = Row(index, line_no, obj.get(id_col), obj.get(text_col), extra, source=label)
        if text_col not in obj:
            row.error = f"{label}: line {line_no}: no {text_col!r} field"
        yield row
        index += 1


def _read_csv(lines: _Lines, text_col: str, id_col: str, delimiter: str) -> Iterator[Row]:
    label = lines.label
    reader = csv.reader(lines, delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as exc:
        raise InputError(f"{label}: line 1: cannot read the header: {exc}") from exc
    if text_col not in header:
        raise InputError(f"{label}: line 1: no column {text_col!r} in the header {header}; pass --text-column")
    ti = header.index(text_col)
    ii = header.index(id_col) if id_col in header else None
    # The other columns, carried through: found once, not per row.
    others = [(j, h) for j, h in enumerate(header) if j not in (ti, ii)]
    index = 0
    while True:
        start_line = lines.line_no + 1
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            yield Row(index, start_line, None, None, error=f"{label}: line {start_line}: malformed CSV: {exc}")
            index += 1
            continue
        if not fields:
            continue
        if len(fields) != len(header):
            yield Row(
                index,
                start_line,
                fields[ii] if ii is not None and ii < len(fields) else None,
                None,
                error=f"{label}: line {start_line}: expected {len(header)} fields, found {len(fields)}",
            )
            index += 1
            continue
        extra = {h: fields[j] for j, h in others}
        yield Row(index, start_line, fields[ii] if ii is not None else None, fields[ti], extra, source=label)
        index += 1


# ---------------------------------------------------------------------------- Parquet


def require_pyarrow(purpose: str) -> Any:
    """The ``pyarrow`` module (with ``pyarrow.parquet``), or :class:`InputError` saying how to install it."""
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError as exc:
        raise InputError(f"{purpose} needs pyarrow: pip install 'redflag[parquet]'") from exc
    return pyarrow


def _parquet_file(path: str) -> Any:
    pa = require_pyarrow("reading Parquet")
    try:
        return pa.parquet.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"{path}: not a readable Parquet file ({exc})") from exc


def parquet_schema(path: str) -> Any:
    """The ``pyarrow.Schema`` of a Parquet file (raises :class:`InputError` if it is not one)."""
    pf = _parquet_file(path)
    try:
        return pf.schema_arrow
    finally:
        pf.close()


def _read_parquet(path: str, text_col: str, id_col: str) -> Iterator[Row]:
    pa = require_pyarrow("reading Parquet")
    pf = _parquet_file(path)
    try:
        names = pf.schema_arrow.names
        if text_col not in names:
            raise InputError(f"{path}: no column {text_col!r} in the columns {names}; pass --text-column")
        index = 0
        batches = pf.iter_batches(batch_size=PARQUET_BATCH)
        while True:
            try:
                batch = next(batches)
            except StopIteration:
                break
            except (pa.ArrowException, OSError) as exc:
                raise InputError(f"{path}: row {index + 1} and after: cannot be read ({exc})") from exc
            for obj in batch.to_pylist():
                extra = {k: v for k, v in obj.items() if k not in (text_col, id_col)}
                yield Row(index, index + 1, obj.get(id_col), obj.get(text_col), extra, unit="row", source=path)
                index += 1
    finally:
        pf.close()


class ParquetSink:
    """Write result records to a Parquet file, one row group per ``row_group`` records.

    ``columns`` maps each column to its Arrow type; a value in a ``string`` column that is not
    text (a number from JSONL, say) is written as its JSON form, so that one odd row cannot
    change the type of a column.
    """

    def __init__(self, path: str, columns: dict[str, Any], *, row_group: int = 8192) -> None:
        self.pa = require_pyarrow("writing Parquet")
        self.schema = self.pa.schema(list(columns.items()))
        self._text = [name for name, kind in columns.items() if kind == self.pa.string()]
        self.row_group = row_group
        self._records: list[dict[str, Any]] = []
        self._writer = self.pa.parquet.ParquetWriter(path, self.schema)

    def write(self, record: dict[str, Any]) -> None:
        for name in self._text:
            value = record.get(name)
            if value is not None and not isinstance(value, str):
                record[name] = json.dumps(value, ensure_ascii=False, default=str)
        self._records.append(record)
        if len(self._records) >= self.row_group:
            self.flush()

    def flush(self) -> None:
        if self._records:
            self._writer.write_table(self.pa.Table.from_pylist(self._records, schema=self.schema))
            self._records = []

    def close(self) -> None:
        self.flush()
        self._writer.close()
