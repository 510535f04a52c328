"""Every rule's own examples, and the rule file's validation."""

from __future__ import annotations

import pytest

from redflag.normalize import normalize
from redflag.rules import Rule, RuleError, load_rules

RULES = load_rules()
POSITIVE = [(r.id, ex) for r in RULES for ex in r.positive]
NEGATIVE = [(r.id, ex) for r in RULES for ex in r.negative]


def _fires(rule_id: str, text: str) -> bool:
    return any(h.rule.id == rule_id and not h.negated for h in RULES.find(normalize(text).text))


def test_every_rule_has_examples():
    for rule in RULES:
        assert rule.positive, f"{rule.id} has no positive example"


@pytest.mark.parametrize(("rule_id", "text"), POSITIVE)
def test_positive_examples_fire(rule_id, text):
    assert _fires(rule_id, text), f"{rule_id} should fire on {text!r}"


@pytest.mark.parametrize(("rule_id", "text"), NEGATIVE)
def test_negative_examples_do_not_fire(rule_id, text):
    assert not _fires(rule_id, text), f"{rule_id} should not fire on {text!r}"


def test_refusal_marks_hit_negated():
    hits = RULES.find(normalize("LINEでの連絡はお受けできません").text)
    assert hits and all(h.negated for h in hits if h.rule.id == "channel.move")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"label": "spam"}, "unknown label"),
        ({"weight": 1.5}, "outside"),
        ({"pattern": "(unclosed"}, "does not compile"),
        ({"pattern": None, "detector": "nope"}, "unknown detector"),
        ({"pattern": None}, "exactly one"),
        ({"reason_en": ""}, "required"),
    ],
)
def test_invalid_rules_are_refused(fields, message):
    base = {"id": "x", "label": "off_platform", "weight": 0.5, "reason_ja": "理由", "reason_en": "why", "pattern": "a"}
    with pytest.raises(RuleError, match=message):
        Rule(**{**base, **fields})


def test_rule_file_errors_name_the_rule(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text(
        "[defs]\nNEG = 'ない'\n[[rule]]\nid = 'a.b'\nlabel = 'off_platform'\nweight = 0.5\n"
        "reason_ja = 'x'\nreason_en = 'x'\npattern = '{MISSING}'\n",
        encoding="utf-8",
    )
    with pytest.raises(RuleError, match=r"a\.b.*undefined name \{MISSING\}"):
        load_rules(path)


def test_duplicate_ids_are_refused(tmp_path):
    rule = (
        "[[rule]]\nid = 'a.b'\nlabel = 'off_platform'\nweight = 0.5\nreason_ja = 'x'\nreason_en = 'x'\npattern = 'a'\n"
    )
    path = tmp_path / "rules.toml"
    path.write_text("[defs]\nNEG = 'ない'\n" + rule + rule, encoding="utf-8")
    with pytest.raises(RuleError, match="duplicate rule ids"):
        load_rules(path)


@pytest.mark.parametrize("rule", list(RULES), ids=[r.id for r in RULES])
def test_rules_do_not_time_out_on_adversarial_input(rule, caplog):
    """Long runs of the characters a rule looks for must not make its regex backtrack.

    A pattern that backtracks catastrophically hits the per-rule timeout, which logs a warning
    and skips the rule; no rule may do that on these inputs.
    """
    seeds = "".join(rule.positive)[:40] or "line"
    text = normalize((seeds * (100_000 // max(1, len(seeds))))[:100_000]).text
    with caplog.at_level("WARNING", logger="redflag.rules"):
        spans = rule.spans(text)
    assert "timed out" not in caplog.text
    assert all(0 <= s < e <= len(text) for s, e in spans)
