"""Properties that hold for any text (hypothesis).

Example counts come from the hypothesis profile: ``ci`` (default, bounded) or ``long``::

    HYPOTHESIS_PROFILE=long .venv/bin/pytest tests/test_properties.py -p no:cacheprovider

runs every property on 100,000 examples.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from redflag.normalize import STEPS, TEXT_STEPS, Mapped, normalize, normalize_mapped
from redflag.pii import mask

settings.register_profile("ci", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile(
    "long", max_examples=100_000, deadline=None, suppress_health_check=list(HealthCheck), print_blob=True
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# Characters the normalizer treats specially, and hostile ones: lone surrogates, NUL and other
# controls, bidi overrides, zero-width joiners, combining marks, emoji ZWJ sequences.
SPECIAL = st.sampled_from(
    [
        *"LINEline らいんチャットワーク〇九〇ー一二三四ゼロキュー@＠()atドット.-ｰ～ 　💚ｶﾞ0123456789仮払い申請承認",
        "\ud800",
        "\udfff",
        "\x00",
        "\x1b",
        "\x7f",
        "\u202e",
        "\u2066",
        "\u200b",
        "\u200d",
        "\ufeff",
        "\u0301",
        "\u3099",
        "👩\u200d💻",
        "🏳️\u200d🌈",
        "\r\n",
        # Where NFKC of a whole text and NFKC cluster by cluster could part, and case oddities.
        *"¨゛゜ﾞﾟﾊﾟ각가Σσǅİﬁ①㌔ｶ",
    ]
)
ANY_CHAR = st.characters(codec=None, categories=None)  # every code point, surrogates included
TEXT = st.lists(st.one_of(SPECIAL, ANY_CHAR, st.text(max_size=5)), max_size=80).map("".join)


@given(TEXT)
def test_offset_map_is_total_and_ordered(text):
    n = normalize(text)
    assert len(n.starts) == len(n.ends) == len(n.text)
    for i in range(len(n.text)):
        s, e = n.original_span(i, i + 1)
        assert 0 <= s <= e <= len(text)
    assert list(n.starts) == sorted(n.starts)


@given(TEXT)
def test_text_only_normalization_matches_the_mapping_one(text):
    # Scoring runs the text-only form of each step; evidence maps offsets with the other form.
    fast, mapped = normalize(text), normalize_mapped(text)
    assert fast.text == mapped.text
    assert fast.steps == mapped.steps
    for name in STEPS:
        assert TEXT_STEPS[name](text) == STEPS[name](Mapped.identity(text)).text


@given(TEXT, st.sampled_from(["generic", "crowdworks", "lancers", "coconala"]))
def test_scoring_any_text(scorer, text, platform):
    a = scorer.score(text, platform=platform)
    assert all(0.0 <= v <= 1.0 for v in a.scores.values())
    assert 0.0 <= a.risk <= 1.0
    assert set(a.labels) <= set(a.scores)
    for ev in a.evidence:
        assert ev.text == text[ev.start : ev.end]
        assert ev.label in a.labels
    assert scorer.score(text, platform=platform) == a  # deterministic


@given(TEXT)
def test_masking_any_text(text):
    masked = mask(text)
    assert isinstance(masked, str)
    assert mask(text) == masked


@given(st.lists(TEXT, max_size=4))
def test_thread_of_any_texts(scorer, messages):
    t = scorer.score_thread(messages)
    assert len(t.messages) == len(messages)
    assert all(0.0 <= v <= 1.0 for v in t.scores.values())
    for te in t.evidence:
        assert te.evidence.text == messages[te.message][te.evidence.start : te.evidence.end]


@pytest.mark.parametrize("char", ["あ", "a", "\u0301", "\ud800", "0", "-", "@", " "])
def test_a_megabyte_of_one_character(scorer, char):
    a = scorer.score(char * 1_000_000)
    assert a.truncated
    assert all(0.0 <= v <= 1.0 for v in a.scores.values())
