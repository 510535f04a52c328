"""Context: refusals, escrow + approval, platform profiles, allow-lists and threads, as twin tables.

Each row of ``cases/context_twins.jsonl`` is a pair of inputs that differ only in the context
(refusal vs proposal, escrow + approval vs escrow only, one platform vs another, an allow-list,
what earlier messages of the thread stated): the safe twin must not carry the label, the risky
twin must.
"""

from __future__ import annotations

from typing import Any

import pytest
from conftest import load_cases

from redflag import Scorer
from redflag.platforms import PLATFORMS, get_platform, load_platforms
from redflag.rules import RuleError

TWINS = load_cases("context_twins.jsonl")


def _labels(scorer: Scorer, side: dict[str, Any]) -> tuple[str, ...]:
    platform = side.get("platform", "generic")
    if "thread" in side:
        return scorer.score_thread(side["thread"], platform=platform).labels
    return scorer.score(side["text"], platform=platform, allow=side.get("allow", ())).labels


@pytest.mark.parametrize("case", TWINS, ids=[f"{c['kind']}:{(c['safe'].get('text') or c['safe']['thread'][-1])[:18]}" for c in TWINS])
def test_twins_differ_only_in_context(scorer, case):
    assert case["label"] not in _labels(scorer, case["safe"])
    assert case["label"] in _labels(scorer, case["risky"])


def test_the_twin_table_covers_every_kind_of_context():
    kinds = {c["kind"] for c in TWINS}
    assert kinds >= {"refusal", "escrow_approval", "platform", "allow", "thread"}
    platform_pairs = {(c["safe"].get("platform"), c["risky"].get("platform")) for c in TWINS if c["kind"] == "platform"}
    assert ("crowdworks", "coconala") in platform_pairs


def test_shipped_profiles_cite_their_sources():
    assert set(PLATFORMS) == {"generic", "crowdworks", "lancers", "coconala"}
    for name in PLATFORMS:
        profile = get_platform(name)
        assert profile.sources, name
        assert profile.advice_ja and profile.advice_en
    assert get_platform("coconala").outside_contact == "never"
    assert get_platform("lancers").requires == ("escrow_funded",)


def test_unknown_platform_is_a_clear_error(scorer):
    with pytest.raises(ValueError, match="unknown platform 'mercari'; known: generic, crowdworks"):
        scorer.score("こんにちは", platform="mercari")


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[platform.generic]\noutside_contact = "sometimes"\nrequires = []', "outside_contact must be"),
        ('[platform.generic]\noutside_contact = "conditional"\nrequires = ["paid"]', "unknown condition"),
        ('[platform.x]\noutside_contact = "never"', "platform.generic] profile is required"),
        ('[condition.a]\npattern = "("\nstatement="" \nfound_ja=""\nfound_en=""\nmissing_ja=""\nmissing_en=""', "bad pattern"),
        ("[platform", "not valid TOML"),
    ],
)
def test_bad_profile_files_are_refused(tmp_path, toml, message):
    path = tmp_path / "platforms.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(RuleError, match=message):
        load_platforms(path)


def test_evidence_says_which_condition_was_found_and_which_is_missing(scorer):
    text = "仮払いが完了しましたので、以降はChatworkでお願いします。"
    a = scorer.score(text, platform="crowdworks")
    ctx = [ev for ev in a.evidence if ev.rule.startswith("context.")]
    assert [ev.text for ev in ctx] == ["仮払いが完了"]
    assert "サービス外連絡申請の承認は書かれていません" in ctx[0].reason
    assert a.platform == "crowdworks"
    assert "サービス外連絡申請" in a.advice["off_platform"]

    b = scorer.score("仮払いが完了し、外部連絡申請も承認されましたので、以降はChatworkでお願いします。", platform="coconala")
    reasons = [ev.reason for ev in b.evidence if ev.rule.startswith("context.")]
    assert len(reasons) == 2 and all("ココナラではどの段階でも" in r for r in reasons)


def test_a_negated_condition_is_not_a_condition(scorer):
    text = "仮払いはまだ完了していませんが、外部連絡申請は承認されました。以降はChatworkでお願いします。"
    a = scorer.score(text, platform="generic")
    assert "off_platform" in a.labels
    found = {ev.rule for ev in a.evidence}
    assert "context.escrow_funded" not in found


def test_a_message_that_states_no_condition_scores_the_same_on_every_platform(scorer):
    texts = ["今後はLINEでお願いします。IDはabc123です", "納品はGoogleドライブでお願いします", "本日もよろしくお願いします"]
    for text in texts:
        generic = scorer.score(text)
        for name in PLATFORMS:
            other = scorer.score(text, platform=name)
            assert other.scores == generic.scores and other.labels == generic.labels


def test_thread_escalation_names_the_messages(scorer):
    thread = [
        "ご応募ありがとうございます。",
        "ちなみにラインやってます？",
        "先に少し作業を進めておいてもらえると助かります",
        "あと、登録に3000円かかるのでお願いします",
    ]
    t = scorer.score_thread(thread)
    assert t.escalating
    assert [label for _, label in t.escalation] == ["off_platform", "escrow_bypass", "upfront_fee"]
    assert t.contributors["off_platform"] == (1,) and t.contributors["upfront_fee"] == (3,)
    assert t.level == "high"
    for te in t.evidence:
        assert te.evidence.text == thread[te.message][te.evidence.start : te.evidence.end]
    assert t.messages[0].labels == ()


def test_thread_window_catches_a_request_split_over_messages(scorer):
    # A phone number split over three messages. The first part must be harmless alone for the
    # test to be about the window: 「私の番号は」 or 「連絡先は」 alone already announces one's own
    # contact, which the default model may flag as off_platform, since its corpus has writers
    # sharing their own contact.
    parts = ["急ぎの時は", "090-1234", "-5678まで"]
    assert all(scorer.score(p).labels == () for p in parts)  # each harmless alone
    t = scorer.score_thread(parts)
    assert "off_platform" in t.labels
    assert t.contributors["off_platform"] == (0, 1)
    assert {te.source for te in t.evidence} == {"window"}
    for te in t.evidence:
        assert te.evidence.text == parts[te.message][te.evidence.start : te.evidence.end]
    # Without a window the thread is only its messages.
    assert scorer.score_thread(parts, window=1).labels == ()


def test_conversation_is_incremental_and_matches_score_thread(scorer):
    thread = ["こんにちは", "仮払いしました", "外部連絡申請も承認されました", "以降はChatworkでお願いします"]
    conv = scorer.conversation()
    steps = [conv.add(m) for m in thread]
    assert [len(s.messages) for s in steps] == [1, 2, 3, 4]
    final = scorer.score_thread(thread)
    assert steps[-1].to_dict() == final.to_dict()
    assert final.stated == {"escrow_funded": 1, "contact_approved": 2, "crowdworks_outside_contact_approved": 2}
    assert final.labels == ()


def test_empty_thread_is_safe(scorer):
    t = scorer.score_thread([])
    assert t.labels == () and t.level == "safe" and t.messages == ()
    with pytest.raises(ValueError, match="window"):
        scorer.conversation(window=0)


def test_the_gate_of_a_profile_changes_no_answer(scorer):
    # A profile first looks for any condition's words in one search; where none occurs it
    # states nothing. Without that gate, every condition is searched: the answers must agree.
    import copy

    from redflag.dataset import default_examples
    from redflag.normalize import normalize

    texts = [normalize(e.text).text for e in default_examples()[::25]]
    for name in PLATFORMS:
        profile = get_platform(name)
        assert profile._gate is not None
        ungated = copy.copy(profile)
        object.__setattr__(ungated, "_gate", None)
        answers = [profile.found(t, scorer.rules.is_negated) for t in texts]
        assert answers == [ungated.found(t, scorer.rules.is_negated) for t in texts]
        assert sum(map(bool, answers)) > 50  # the texts state conditions, not only nothing
