from __future__ import annotations

import pytest
from conftest import load_cases

from redflag.normalize import STEPS, normalize

CASES = load_cases("normalize.jsonl")


@pytest.mark.parametrize("case", CASES, ids=[c["input"][:20] for c in CASES])
def test_normalize_table(case):
    n = normalize(case["input"])
    assert n.text == case["expected"]
    if "steps" in case:
        assert set(n.steps) == set(case["steps"])
    if "find" in case:
        start = n.text.index(case["find"])
        s, e = n.original_span(start, start + len(case["find"]))
        assert case["input"][s:e] == case["original"]


@pytest.mark.parametrize("case", CASES, ids=[c["input"][:20] for c in CASES])
def test_every_character_maps_inside_the_original(case):
    n = normalize(case["input"])
    assert len(n.starts) == len(n.ends) == len(n.text)
    for i in range(len(n.text)):
        s, e = n.original_span(i, i + 1)
        assert 0 <= s < e <= len(case["input"])


def test_unknown_step_is_an_error():
    with pytest.raises(ValueError, match="unknown normalization step"):
        normalize("x", steps=["nfkc", "nope"])


def test_non_str_is_a_type_error():
    with pytest.raises(TypeError, match="expects str"):
        normalize(b"bytes")  # type: ignore[arg-type]


def test_each_step_can_run_alone():
    for name in STEPS:
        assert normalize("ＬＩＮＥ ０９０ー１２３４ー５６７８", steps=[name]).original.startswith("ＬＩＮＥ")


def test_span_outside_text_raises():
    n = normalize("abc")
    with pytest.raises(IndexError):
        n.original_span(0, 10)
