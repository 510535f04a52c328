from __future__ import annotations

import pytest
from conftest import load_cases

from redflag.dataset import default_examples
from redflag.normalize import DEFAULT_STEPS, STEPS, TEXT_STEPS, _quiet, normalize

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


def _step_by_step(text: str) -> tuple[str, tuple[str, ...]]:
    out, changed = text, []
    for name in DEFAULT_STEPS:
        new = TEXT_STEPS[name](out)
        if new != out:
            out = new
            changed.append(name)
    return out, tuple(changed)


def test_the_shortcut_for_quiet_texts_gives_what_every_step_gives():
    # normalize() skips eight steps when one search says none of them can change the text;
    # over the corpus, the cases and texts made to sit at the edge of that search, the text
    # and the steps named must be those of running every step.
    edge = ["ＡＢＣ", "İstanbulで", "ΣΑΣ", "電話 番号", "〇九〇", "ゼロキュウゼロ", "a", "1", "\u3000", "\u200b", "🅛🅘🅝🅔", "一二三", "一緒に"]
    texts = [ex.text for ex in default_examples()[::7]] + [c["input"] for c in CASES] + edge
    quiet = 0
    for text in texts:
        n = normalize(text)
        assert (n.text, n.steps) == _step_by_step(text), text
        quiet += _quiet(text) is not None
    assert 0 < quiet < len(texts)  # both ways through normalize() were taken
