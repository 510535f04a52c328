from __future__ import annotations

import pandas as pd
import pytest

import redflag
from redflag.frame import RESULT_COLUMNS


def test_score_frame_adds_columns_in_order(scorer):
    df = pd.DataFrame(
        {
            "body": ["LINEで連絡ください", float("nan"), "", "納品ありがとうございました", None, 3],
            "other": list("abcdef"),
        }
    )
    out = redflag.score_frame(df, "body", scorer=scorer)
    assert list(out.columns) == ["body", "other", *RESULT_COLUMNS]
    assert list(out["other"]) == list("abcdef")
    assert "off_platform" in out.loc[0, "labels"]
    assert out.loc[3, "labels"] == [] and out.loc[3, "level"] == "safe"
    assert list(out["error"].notna()) == [False, True, True, False, True, True]
    assert "not text (float)" in out.loc[1, "error"] and "empty" in out.loc[2, "error"]
    assert df.shape == (6, 2)  # the input is not modified


def test_score_frame_missing_column(scorer):
    with pytest.raises(KeyError, match="no column 'text'"):
        redflag.score_frame(pd.DataFrame({"body": ["x"]}), scorer=scorer)
