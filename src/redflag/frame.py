"""pandas support: score a DataFrame column and get the results as new columns."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .labels import LABELS
from .scorer import Scorer, default_scorer

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["RESULT_COLUMNS", "score_frame"]

#: Columns added by :func:`score_frame` (with ``prefix`` in front).
RESULT_COLUMNS: tuple[str, ...] = (
    "labels",
    "risk",
    "level",
    *(f"score_{label}" for label in LABELS),
    "evidence",
    "error",
)


def score_frame(
    df: pd.DataFrame,
    text_column: str = "text",
    *,
    scorer: Scorer | None = None,
    allow: Sequence[str] = (),
    explain: bool = True,
    prefix: str = "",
) -> pd.DataFrame:
    """A copy of ``df`` with the result columns added, row for row, in the same order.

    A row whose text is missing, empty or not a string (``NaN``, ``None``, a number) gets
    ``error`` set and empty results; the other rows are scored.
    """
    if text_column not in df.columns:
        raise KeyError(f"no column {text_column!r} in the DataFrame; columns are {list(df.columns)}")
    scorer = scorer or default_scorer()
    texts = df[text_column].tolist()
    good = [i for i, t in enumerate(texts) if isinstance(t, str) and t.strip()]
    scored = dict(zip(good, scorer.score_many([texts[i] for i in good], allow=allow, explain=explain)))
    columns: dict[str, list[Any]] = {name: [] for name in RESULT_COLUMNS}
    for i, text in enumerate(texts):
        a = scored.get(i)
        if a is None:
            kind = "empty" if isinstance(text, str) else f"not text ({type(text).__name__})"
            for name in RESULT_COLUMNS:
                columns[name].append(None)
            columns["error"][-1] = f"row {i}: message is {kind}"
            continue
        columns["labels"].append(list(a.labels))
        columns["risk"].append(a.risk)
        columns["level"].append(a.level)
        for label in LABELS:
            columns[f"score_{label}"].append(a.scores[label])
        columns["evidence"].append([e.__dict__.copy() for e in a.evidence])
        columns["error"].append(None)
    out = df.copy()
    for name, values in columns.items():
        out[prefix + name] = values
    return out
