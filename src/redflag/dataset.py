"""Labeled data for training and evaluation: a user's files and the corpus shipped with redflag."""

from __future__ import annotations

import gzip
import json
import math
from importlib import resources
from typing import Any

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
    weight_column: str | None = "weight",
    encoding: str = "auto",
) -> list[Example]:
    """Read labeled messages; any bad row is an error naming the file and line.

    ``labels`` may be a JSON list or a ``;``-separated string; empty means safe. Without a
    ``group`` column every message is its own group in the cross-validation. A ``weight``
    (a positive number; missing or empty means 1) is how much the message counts when the
    regressions are fitted: more than 1 for the kind of message the model must get right.
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
        weight = _weight(row.extra.get(weight_column), f"{path}: line {row.line}: {weight_column!r}") if weight_column else 1.0
        out.append(
            Example(row.text, labels, str(row.id) if row.id is not None else "", str(group) if group else "", weight)
        )
    if not out:
        raise InputError(f"{path}: no rows")
    return out


def default_examples() -> list[Example]:
    """The training corpus shipped with redflag (built from ``data/`` by ``data/build.py``)."""
    blob = resources.files("redflag").joinpath("data/corpus.jsonl.gz").read_bytes()
    rows = [json.loads(line) for line in gzip.decompress(blob).decode("utf-8").splitlines() if line.strip()]
    return [Example(r["text"], tuple(r["labels"]), r["id"], r.get("group", ""), r.get("weight", 1.0)) for r in rows]


def _weight(value: Any, where: str) -> float:
    """A message's weight from a JSON number or a CSV field; None or empty is 1."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return 1.0
    if isinstance(value, bool):  # JSON true is not a weight
        raise InputError(f"{where}: weight {value!r} is not a number")
    try:
        weight = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{where}: weight {value!r} is not a number") from None
    if not math.isfinite(weight) or weight <= 0:
        raise InputError(f"{where}: weight {value!r} must be a positive number")
    return weight
