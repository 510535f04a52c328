"""pandas support: score a DataFrame column and get the results as new columns."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .labels import LABELS
from .scorer import Scorer, default_scorer

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["RESULT_COLUMNS", "RESULT_DTYPES", "empty_results", "score_frame"]

#: Columns added by :func:`score_frame` (with ``prefix`` in front).
RESULT_COLUMNS: tuple[str, ...] = (
    "labels",
    "risk",
    "level",
    *(f"score_{label}" for label in LABELS),
    "evidence",
    "error",
)

#: The dtype of each result column. Fixed rather than inferred, so that every piece of a
#: partitioned frame (Dask) has the same dtypes whatever its rows are (all errors, no errors).
RESULT_DTYPES: dict[str, str] = {
    name: "float64" if name == "risk" or name.startswith("score_") else "object" for name in RESULT_COLUMNS
}


def score_frame(
    df: pd.DataFrame,
    text_column: str = "text",
    *,
    scorer: Scorer | None = None,
    allow: Sequence[str] = (),
    explain: bool = True,
    mask_pii: bool = False,
    platform: str = "generic",
    prefix: str = "",
) -> pd.DataFrame:
    """A copy of ``df`` with the result columns added, row for row, in the same order.

    A row whose text is missing, empty or not a string (``NaN``, ``None``, a number) gets
    ``error`` set (naming the row by its index label) and empty results; the other rows are
    scored. ``mask_pii`` masks phone numbers, e-mail addresses and chat IDs quoted in the
    evidence (the DataFrame's own columns are left as they are); ``platform`` is as for
    :func:`redflag.score`.
    """
    import pandas as pd

    if text_column not in df.columns:
        raise KeyError(f"no column {text_column!r} in the DataFrame; columns are {list(df.columns)}")
    scorer = scorer or default_scorer()
    texts = df[text_column].tolist()
    good = [i for i, t in enumerate(texts) if isinstance(t, str) and t.strip()]
    assessments = scorer.score_many(
        [texts[i] for i in good], allow=allow, explain=explain, mask_pii=mask_pii, platform=platform
    )
    scored = dict(zip(good, assessments))
    columns: dict[str, list[Any]] = {name: [] for name in RESULT_COLUMNS}
    for i, (label_, text) in enumerate(zip(df.index, texts)):
        a = scored.get(i)
        if a is None:
            if isinstance(text, str):
                kind = "empty"
            elif text is None or text is pd.NA:
                kind = "missing"
            else:
                kind = f"not text ({type(text).__name__})"
            for name in RESULT_COLUMNS:
                columns[name].append(None)
            columns["error"][-1] = f"row {label_}: message is {kind}"
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
        out[prefix + name] = pd.Series(values, index=df.index, dtype=RESULT_DTYPES[name])
    return out


def empty_results(df: pd.DataFrame, *, prefix: str = "") -> pd.DataFrame:
    """What :func:`score_frame` returns for ``df`` with no rows: its columns and dtypes (Dask ``meta``)."""
    import pandas as pd

    out = df.iloc[:0].copy()
    for name in RESULT_COLUMNS:
        out[prefix + name] = pd.Series([], index=out.index, dtype=RESULT_DTYPES[name])
    return out
