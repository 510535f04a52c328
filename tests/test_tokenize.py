from __future__ import annotations

import pickle

import fugashi
import pytest

from redflag.tokenize import Tokenizer, sanitize


def test_unidic_lite_is_the_dictionary():
    # The tests expect the unidic-lite dictionary that redflag depends on.
    import unidic_lite

    assert fugashi.Tagger().dictionary_info[0]["filename"].startswith(unidic_lite.DICDIR)


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("LINEで連絡ください", ["LINE", "で", "連絡", "ください"]),
        ("仮払い後に着手します", ["仮払い", "後", "に", "着手", "し", "ます"]),
        ("", []),
    ],
)
def test_tokens(text, tokens):
    assert Tokenizer().tokens(text) == tokens


def test_offsets_index_the_text():
    text = "らいんで連絡を\nお願いします 090-1234-5678"
    for tok, s, e in Tokenizer().tokens_with_offsets(text):
        assert text[s:e] == tok


def test_nul_and_lone_surrogates_keep_offsets():
    text = "a\x00b \ud800 ok"
    toks = Tokenizer().tokens_with_offsets(text)
    assert [t for t, _, _ in toks][-1] == "ok"
    assert toks[-1][1:] == (6, 8)
    assert len(sanitize(text)) == len(text)


def test_tokenizer_pickles_without_its_tagger():
    t = Tokenizer()
    t.tokens("初期化")
    clone = pickle.loads(pickle.dumps(t))
    assert clone.args == t.args
    assert clone.tokens("チャットワークで") == t.tokens("チャットワークで")


def test_long_texts_are_parsed_in_pieces_with_exact_offsets():
    from redflag.tokenize import SEGMENT, Tokenizer, _segments

    text = ("仮払い後に作業を始めます。LINEはお使いですか？" * 400) + "x" * (SEGMENT * 2) + "最後の文です。"
    pieces = _segments(text)
    assert "".join(p for _, p in pieces) == text
    assert all(len(p) <= SEGMENT for _, p in pieces)
    assert [off for off, _ in pieces] == sorted(off for off, _ in pieces)
    toks = Tokenizer().tokens_with_offsets(text)
    assert all(text[s:e] == tok for tok, s, e in toks)
    assert [s for _, s, _ in toks] == sorted(s for _, s, _ in toks)
    short = "今後はLINEでお願いします。"
    assert _segments(short) == [(0, short)]
