"""Dask support: score a Dask DataFrame partition by partition on the workers.

Needs ``pip install 'redflag[dask]'``; ``import redflag`` does not import Dask. ::

    import dask.dataframe as dd
    from distributed import Client
    from redflag.dask import score_dataframe

    client = Client("tcp://scheduler:8786")
    ddf = dd.read_parquet("messages/*.parquet")
    score_dataframe(ddf, text_column="body").to_parquet("scored/")

Each worker process loads a model once, on first use, and keeps it for every later partition
(and every later computation) that asks for the same model file and SHA-256.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .frame import empty_results, score_frame
from .scorer import Scorer

if TYPE_CHECKING:
    import dask.dataframe as dd
    import pandas as pd

__all__ = ["score_dataframe", "worker_scorer"]

_scorers: dict[tuple[str | None, str | None], Scorer] = {}
_loads = 0
# A worker may run several tasks at once in threads; the model is still loaded only once.
_lock = threading.Lock()


def worker_scorer(model: str | None = None, sha256: str | None = None) -> Scorer:
    """The scorer for ``model`` (``None`` = the shipped default), loaded once per process."""
    global _loads
    key = (model, sha256)
    with _lock:
        scorer = _scorers.get(key)
        if scorer is None:
            scorer = _scorers[key] = Scorer.load(model, sha256=sha256)
            _loads += 1
    return scorer


def _scorer_loads() -> int:
    """How many models this process has loaded through :func:`worker_scorer`."""
    return _loads


def _score_partition(
    part: pd.DataFrame,
    text_column: str,
    model: str | None,
    sha256: str | None,
    allow: tuple[str, ...],
    explain: bool,
    mask_pii: bool,
    platform: str,
) -> pd.DataFrame:
    scorer = worker_scorer(model, sha256)
    return score_frame(
        part, text_column, scorer=scorer, allow=allow, explain=explain, mask_pii=mask_pii, platform=platform
    )


def score_dataframe(
    ddf: dd.DataFrame,
    text_column: str = "text",
    *,
    model: str | os.PathLike[str] | None = None,
    sha256: str | None = None,
    allow: Sequence[str] = (),
    explain: bool = True,
    mask_pii: bool = False,
    platform: str = "generic",
) -> dd.DataFrame:
    """A lazy Dask DataFrame: ``ddf`` with the result columns of :func:`redflag.score_frame`.

    Nothing is scored until the result is computed; then each partition is scored where it
    lives, with the model each worker process loaded once. ``model`` is a model file path
    that the workers can read (``None``: the model shipped with redflag); ``sha256``, ``allow``,
    ``explain``, ``mask_pii`` and ``platform`` are as for :func:`redflag.score_frame`. The labels are the same
    as scoring the same rows locally.
    """
    if text_column not in ddf.columns:
        raise KeyError(f"no column {text_column!r} in the DataFrame; columns are {list(ddf.columns)}")
    # Workers may run in another directory: a relative path would point elsewhere there.
    path = str(Path(model).resolve()) if model is not None else None
    return ddf.map_partitions(
        _score_partition,
        text_column,
        path,
        sha256,
        tuple(allow),
        explain,
        mask_pii,
        platform,
        meta=empty_results(ddf._meta),
    )
