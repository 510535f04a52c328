"""Properties that hold for any text (hypothesis; bounded example counts in CI)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from redflag.normalize import normalize

# Characters the normalizer treats specially, mixed with anything at all.
SPECIAL = st.sampled_from(
    list("LINEline らいんチャットワーク〇九〇ー一二三四ゼロキュー@＠()atドット.-ｰ～ 　\u200b💚ｶﾞ0123456789")
)
TEXT = st.lists(st.one_of(SPECIAL, st.characters()), max_size=80).map("".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEXT)
def test_offset_map_is_total_and_ordered(text):
    n = normalize(text)
    assert len(n.starts) == len(n.ends) == len(n.text)
    for i in range(len(n.text)):
        s, e = n.original_span(i, i + 1)
        assert 0 <= s <= e <= len(text)
    assert list(n.starts) == sorted(n.starts)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEXT)
def test_scoring_any_text(scorer, text):
    a = scorer.score(text)
    assert all(0.0 <= v <= 1.0 for v in a.scores.values())
    for ev in a.evidence:
        assert ev.text == text[ev.start : ev.end]
    assert scorer.score(text) == a
