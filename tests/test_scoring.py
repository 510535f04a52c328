"""The public API on the shipped default model."""

from __future__ import annotations

import dataclasses

import pytest
from conftest import load_cases

import redflag
from redflag import LABELS, Assessment

MESSAGES = load_cases("messages.jsonl")
EVIDENCE = load_cases("evidence.jsonl")


def _cases(rows):
    """Rows with an ``xfail`` reason are known failures: strict, so a fix is noticed."""
    return [
        pytest.param(c, marks=pytest.mark.xfail(reason=c["xfail"], strict=True)) if "xfail" in c else c for c in rows
    ]


@pytest.mark.parametrize("case", _cases(MESSAGES), ids=[c["text"][:24] for c in MESSAGES])
def test_default_model_labels(scorer, case):
    assert list(scorer.score(case["text"]).labels) == case["labels"]


@pytest.mark.parametrize("case", MESSAGES, ids=[c["text"][:24] for c in MESSAGES])
def test_every_label_given_has_evidence(scorer, case):
    a = scorer.score(case["text"])
    assert {ev.label for ev in a.evidence} == set(a.labels)


@pytest.mark.parametrize("case", EVIDENCE, ids=[c["text"][:24] for c in EVIDENCE])
def test_evidence_points_into_the_original_text(scorer, case):
    a = scorer.score(case["text"])
    assert set(case["labels"]) <= set(a.labels)
    rules = {ev.rule for ev in a.evidence}
    assert set(case["evidence"]) <= rules, rules
    for ev in a.evidence:
        assert ev.text == case["text"][ev.start : ev.end]
        assert ev.label in a.labels
        assert ev.reason


def test_assessment_shape(scorer):
    a = scorer.score("LINEで連絡ください")
    assert isinstance(a, Assessment)
    assert set(a.scores) == set(LABELS)
    assert all(0.0 <= v <= 1.0 for v in a.scores.values())
    assert a.risk == max(a.scores.values())
    assert a.level in ("low", "medium", "high")
    d = a.to_dict()
    assert d["labels"] == list(a.labels) and isinstance(d["evidence"], list)
    assert set(d) == {f.name for f in dataclasses.fields(Assessment)}
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.risk = 0.0  # type: ignore[misc]


def test_safe_message_has_safe_level_and_no_evidence(scorer):
    a = scorer.score("納品ありがとうございました。またお願いします。")
    assert a.labels == () and a.level == "safe" and a.evidence == () and a.advice == {}


def test_flagged_labels_carry_advice(scorer):
    a = scorer.score("お仕事を始めるには登録料5,000円のお支払いが必要です。")
    assert a.advice == {label: redflag.LABEL_INFO[label].advice_ja for label in a.labels}
    assert "upfront_fee" in a.advice


def test_score_many_equals_score(scorer):
    texts = [c["text"] for c in MESSAGES + EVIDENCE]
    batch = scorer.score_many(texts)
    assert batch == [scorer.score(t) for t in texts]


def test_module_level_score_uses_default_model():
    a = redflag.score("仮払いの前に作業を始めてください")
    assert "escrow_bypass" in a.labels


def test_non_str_input_is_a_type_error(scorer):
    for bad in (None, b"LINE", 42, float("nan")):
        with pytest.raises(TypeError, match="must be str"):
            scorer.score(bad)  # type: ignore[arg-type]


def test_empty_and_whitespace_text_are_safe(scorer):
    for text in ("", "   ", "\n"):
        assert scorer.score(text).labels == ()


def test_long_text_is_truncated_with_a_flag(scorer):
    from redflag import Scorer

    small = Scorer(scorer.model, max_chars=50)
    a = small.score("あ" * 49 + "LINEで連絡ください")
    assert a.truncated
    assert not scorer.score("LINEで連絡ください").truncated


def test_allow_list_keeps_topic_words_out(scorer):
    text = "LINEスタンプの制作をお願いします。LINEで連絡ください"
    a = scorer.score(text, allow=["LINEスタンプ"])
    assert "off_platform" in a.labels
    assert all("スタンプ" not in ev.text for ev in a.evidence)


def test_context_evidence_says_what_is_missing(scorer):
    a = scorer.score("仮払いは済みましたので、今後はLINEでお願いします。")
    ctx = [ev for ev in a.evidence if ev.rule == "context.escrow_funded"]
    assert ctx and "外部連絡申請の承認は書かれていません" in ctx[0].reason
    safe = scorer.score("仮払いが完了し、外部連絡申請も承認されましたので、以降はChatworkでお願いします。")
    assert safe.labels == ()


def test_redflag_train_stays_the_function_after_its_module_is_imported():
    import importlib

    importlib.import_module("redflag.training")
    from redflag.training import Example  # noqa: F401

    assert callable(redflag.train) and redflag.train.__module__ == "redflag"
