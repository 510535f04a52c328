"""Every rule's own examples, and the rule file's validation."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from redflag.dataset import default_examples
from redflag.normalize import normalize
from redflag.rules import (
    Rule,
    RuleError,
    Twin,
    _alternatives,
    _leading_words,
    _trie,
    _Union,
    fold_kana,
    load_rules,
)

RULES = load_rules()
CASES = Path(__file__).parent / "cases"
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


def _engine_texts() -> list[str]:
    """Texts to compare the two regex engines on: the rules' examples, the test tables, the corpus."""
    texts = [ex for r in RULES for ex in (*r.positive, *r.negative)]
    for path in sorted((Path(__file__).parent / "cases").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.lstrip().startswith("//"):
                texts.extend(v for v in json.loads(line).values() if isinstance(v, str))
    texts.extend(ex.text for ex in default_examples()[::4])
    return [normalize(t).text for t in texts]


def test_both_regex_engines_find_the_same_matches():
    # Short texts are matched with re where a pattern allows it, long ones with regex: both
    # must find exactly the same spans for every pattern of the rule file.
    twins = [r._compiled for r in RULES.rules if r._compiled is not None]
    twins += [*RULES.anchors.values(), *RULES.context.values(), *RULES.concepts.values(), RULES._negation]
    fast = [t for t in twins if t.fast is not None]
    assert len(fast) > len(twins) // 2  # most patterns do get the faster engine
    texts = _engine_texts()
    assert len(texts) > 5000
    for t in fast:
        for text in texts:
            expected = [m.span() for m in t.slow.finditer(text)]
            assert [m.span() for m in t.fast.finditer(text)] == expected, (t.pattern[:60], text)


ANCHOR_CASES = [json.loads(line) for line in (CASES / "anchors.jsonl").open(encoding="utf-8")]


@pytest.mark.parametrize("case", ANCHOR_CASES, ids=[c["text"][:20] for c in ANCHOR_CASES])
def test_anchors(case):
    found = RULES.anchored(normalize(case["text"]).text)
    assert set(case.get("anchored", [])) <= found, f"{case['why']}: anchored {sorted(found)}"
    assert not set(case.get("not_anchored", [])) & found, f"{case['why']}: anchored {sorted(found)}"


def test_kana_folding_keeps_length_and_leaves_other_characters():
    text = "デンワ・ヴァイオリン、ヶ月ーでんわABC漢字ｱ"
    folded = fold_kana(text)
    assert len(folded) == len(text)
    assert folded.startswith("でんわ・ゔぁいおりん、ゖ月ーでんわABC漢字")
    assert folded[-1] == "ｱ"  # half-width katakana is NFKC's job, before the rules run


def test_anchor_kana_folding_is_a_switch_of_the_rule_file(tmp_path):
    base = '[defs]\nNEG = "ません"\n[anchors]\noff_platform = "でんわ"\n'
    off = load_rules(text=base)
    on = load_rules(text="anchors_fold_kana = true\n" + base)
    assert off.anchored("デンワください") == frozenset()
    assert on.anchored("デンワください") == {"off_platform"}
    with pytest.raises(RuleError, match="anchors_fold_kana must be true or false"):
        load_rules(text='anchors_fold_kana = "yes"\n' + base)


def test_union_of_patterns_answers_as_each_pattern_does():
    # The anchors ask "does any of these patterns match?" of a _Union that takes the patterns
    # apart (plain words in one alternation, the rest joined): the answer must be the one of
    # searching every pattern, on short texts (re) and long ones (regex). The prefilters of the
    # rules and concepts may answer True in vain, but never False where a pattern matches, and
    # must still turn most chat away.
    texts = _engine_texts()
    texts += [t * 40 for t in texts[:200]]  # longer than TIMEOUT_FROM: the regex engine
    exact = [(RULES._anchored_by[label], [p]) for label, p in RULES.anchors.items()]
    prefilters = [
        (RULES._any_concept, list(RULES.concepts.values())),
        (RULES._any_pattern, [r._compiled for r in RULES.rules if r._compiled is not None]),
    ]
    prefilters += [(RULES._concept_occurs[name], [p]) for name, p in RULES.concepts.items()]
    # Each is asked twice: searching its words itself, and with the one-pass scan of all words.
    scans = [RULES.scan(text) for text in texts]
    for union, twins in exact:
        assert union.words is not None  # each has plain words to take apart
        for text, scan in zip(texts, scans):
            folded = fold_kana(text)
            expected = any(t.slow.search(folded) for t in twins)
            assert union.matches(folded) == expected, (union.what, text)
            assert union.matches(folded, scan) == expected, (union.what, text)
    for union, twins in prefilters:
        for text, scan in zip(texts, scans):
            found = any(t.slow.search(text) for t in twins)
            assert union.matches(text) or not found, (union.what, text)
            assert union.matches(text, scan) or not found, (union.what, text)
    # The rules' prefilter lets through fewer than half of the corpus's small talk (safe-only
    # parts of chat between friends, family and neighbours, full of the rules' words by design).
    small_talk = ("w14_", "w21_", "w40_", "w50_")
    chat = [normalize(ex.text).text for ex in default_examples() if ex.group.startswith(small_talk)]
    assert len(chat) > 1000
    rules = prefilters[1][1]
    in_vain = sum(1 for t in chat if RULES._any_pattern.matches(t) and not any(p.slow.search(t) for p in rules))
    assert in_vain < len(chat) / 2, (in_vain, len(chat))


def test_anchors_and_concepts_answer_the_same_with_a_scan():
    # Given the one-pass scan, anchored() and concept_spans() skip what the scan already
    # answers (a label whose words occur, a concept none of whose words does); the answers
    # must be those of searching everything.
    texts = _engine_texts()
    texts += [t * 40 for t in texts[:50]]
    assert any(RULES.concept_spans(t) for t in texts) and any(RULES.anchored(t) for t in texts)
    for text in texts:
        scan = RULES.scan(text)
        assert RULES.anchored(text, found=scan) == RULES.anchored(text), text
        assert RULES.concept_spans(text, found=scan) == RULES.concept_spans(text), text


@pytest.mark.parametrize(
    ("words", "pattern"),
    [
        (["かりばらい", "かりばら", "かい"], "か(?:い|りばら(?:い)?)"),
        (["ab", "abc", "b"], "ab(?:c)?|b"),
        (["a.b"], r"a\.b"),
    ],
)
def test_trie_of_words(words, pattern):
    assert _trie(words) == pattern
    compiled = re.compile(pattern)
    for w in words:
        assert compiled.fullmatch(w)


@pytest.mark.parametrize(
    ("alternative", "words"),
    [
        ("(?:先に|まず)[^。]{0,8}作業", ["先に", "まず"]),
        ("(?<![a-z])(?:usdt|btc)(?![a-z])", ["usdt", "btc"]),  # lookarounds first only narrow
        ("お電話(?:します)", ["お電話"]),
        ("abc?d", ["ab"]),  # c may be absent
        ("(?:a|b)?x", None),  # the group may be absent
        ("[ab]c", None),
        ("(?:a|b.)x", ["a", "b"]),  # each alternative of the group begins with a word
        ("(?:a|.b)x", None),  # one of them does not
        ("(?:line(?![a-z])|らいん|c(?<!a)w)x", ["line", "らいん", "c"]),
    ],
)
def test_leading_words_of_an_alternative(alternative, words):
    assert _leading_words(alternative) == words


@pytest.mark.parametrize(
    ("pattern", "alternatives"),
    [
        ("a|b|c", ["a", "b", "c"]),
        ("(?:a|b)|c", ["a", "b", "c"]),
        ("(?:a|(?:b|c))", ["a", "b", "c"]),
        ("(?:a|b)?|c", ["(?:a|b)?", "c"]),  # a group with a quantifier stays whole
        ("(?:a)(?:b)|c", ["(?:a)(?:b)", "c"]),  # two groups are not one
        (r"[|(]x|\|y", ["[|(]x", r"\|y"]),  # | and ( in a class or escaped are characters
        (r"[]|]z|w", ["[]|]z", "w"]),  # ] first in a class is a character
        ("a(?<!b|c)d|e", ["a(?<!b|c)d", "e"]),
        ("a||b", ["a", "", "b"]),
    ],
)
def test_alternatives_are_split_at_the_top_level_only(pattern, alternatives):
    assert _alternatives(pattern) == alternatives


def test_union_searches_a_pattern_with_global_flags_alone():
    # Joined to other patterns, (?i) would make them case-insensitive too.
    union = _Union([Twin("(?i)abc|def"), Twin("ghi|jkl")], "flags")
    assert [t.pattern for t in union.alone] == ["(?i)abc|def"]
    assert union.matches("ABC") and union.matches("DEF") and union.matches("ghi")
    assert not union.matches("GHI") and not union.matches("xyz")


def test_platform_conditions_are_found_with_and_without_their_prefilter():
    # A condition looks for the words its pattern begins with before it runs the pattern; on
    # every text it must find exactly the span the pattern alone finds.
    from redflag.platforms import load_platforms

    conditions = {id(c): c for p in load_platforms().values() for c in p.conditions.values()}.values()
    assert all(c._occurs is not None for c in conditions)  # the shipped ones all have one
    texts = _engine_texts()
    stated = 0
    for c in conditions:
        for text in texts:
            m = c.pattern.search(text)
            assert c.search(text) == (m.span() if m else None), (c.name, text)
            stated += m is not None
    assert stated > 100  # the texts do state the conditions, often
