"""Labeled data for training and evaluation: a user's files and the corpus shipped with redflag."""

from __future__ import annotations

import gzip
import json
from importlib import resources

from .io import InputError, read_rows
from .labels import parse_labels
from .training import Example

__all__ = ["default_examples", "load_examples"]


def load_examples(
    path: str,
    *,
    text_column: str = "text",
    labels_column: str = "labels",
    id_column: str = "id",
    group_column: str | None = "group",
    encoding: str = "auto",
) -> list[Example]:
    """Read labeled messages; any bad row is an error naming the file and line.

    ``labels`` may be a JSON list or a ``;``-separated string; empty means safe. Without a
    ``group`` column every message is its own group in the cross-validation.
    """
    out: list[Example] = []
    for row in read_rows(path, text_column=text_column, id_column=id_column, encoding=encoding):
        if row.error is not None:
            raise InputError(row.error)
        if labels_column not in row.extra:
            raise InputError(f"{path}: line {row.line}: no {labels_column!r} column/field; pass --labels-column")
        if not isinstance(row.text, str) or not row.text.strip():
            raise InputError(f"{path}: line {row.line}: empty or missing text in {text_column!r}")
        labels = parse_labels(row.extra[labels_column], where=f"{path}: line {row.line}")
        group = row.extra.get(group_column) if group_column else None
        out.append(Example(row.text, labels, str(row.id) if row.id is not None else "", str(group) if group else ""))
    if not out:
        raise InputError(f"{path}: no rows")
    return out


def default_examples() -> list[Example]:
    """The training corpus shipped with redflag (built from ``data/`` by ``data/build.py``)."""
    blob = resources.files("redflag").joinpath("data/corpus.jsonl.gz").read_bytes()
    rows = [json.loads(line) for line in gzip.decompress(blob).decode("utf-8").splitlines() if line.strip()]
    return [Example(r["text"], tuple(r["labels"]), r["id"], r.get("group", "")) for r in rows]
