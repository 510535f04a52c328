"""The batch encoder finds exactly the features the names give, and a batch scores as one message does."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from conftest import load_cases

from redflag.dataset import default_examples
from redflag.encode import Encoder
from redflag.features import Analyzer, FeatureConfig
from redflag.model import LinearModel

# Texts where the words and characters are not what they seem: numbers, spaces, surrogates,
# NUL, emoji, refusals (x features), a word repeated (counts above one), nothing at all.
_ODD = [
    "",
    " ",
    "090-1234-5678に電話ください、１２３４５",
    "直接契約はお受けできません。LINEも使いません",
    "LINE LINE LINE LINE LINE LINE",
    "a\x00b 連絡\ud800先",
    "😀🙏 らいん で れんらく ください 🙏😀",
    "仮払い" * 300,
    "\n\n\t連絡\u3000ください\n",
]


def _texts() -> list[str]:
    examples = default_examples()
    cases = [c["text"] for c in load_cases("messages.jsonl") + load_cases("evidence.jsonl")]
    return [e.text for e in examples[::40]] + cases + _ODD


def _by_name(vocabulary, analyses) -> Counter:
    return Counter((i, vocabulary[f]) for i, a in enumerate(analyses) for f in a.features if f in vocabulary)


def test_pairs_are_the_named_features(scorer):
    texts = _texts()
    analyses = [scorer.analyze(t)[0] for t in texts]
    assert any(a.given is not None for a in analyses) and any(a.given is None for a in analyses)
    messages, features = scorer.model.encoder.pairs(analyses)
    got = Counter(zip(messages.tolist(), features.tolist()))
    assert got == _by_name(scorer.model.vocabulary, analyses)


def test_allow_list_messages_are_encoded_by_their_given_features(scorer):
    analyses = [scorer.analyze(t, allow=["LINE"])[0] for t in ("LINEスタンプの制作をお願いします", "LINEで連絡して")]
    assert all(a.given is not None for a in analyses)
    assert not any(f.endswith("LINE") or "line" in f for f in analyses[0].features)
    messages, features = scorer.model.encoder.pairs(analyses)
    assert Counter(zip(messages.tolist(), features.tolist())) == _by_name(scorer.model.vocabulary, analyses)


def test_batch_probabilities_are_bit_for_bit_those_of_one_message(scorer):
    model = scorer.model
    analyses = [scorer.analyze(t)[0] for t in _texts()]
    batch = model.proba_analyses(analyses)
    one = np.array([model.proba_one(a.features) for a in analyses])
    assert np.array_equal(batch, one)
    by_name = model.proba([a.features for a in analyses])
    assert np.array_equal(by_name, one)
    # One message without its features' names (what Scorer.score uses).
    assert np.array_equal(np.array([model.proba_analysis(a) for a in analyses]), one)
    # A message scores the same whatever else is in its batch.
    assert np.array_equal(model.proba_analyses(analyses[::-1]), one[::-1])
    assert np.array_equal(model.proba_analyses(analyses[:1]), one[:1])


@pytest.mark.parametrize(
    "config",
    [
        FeatureConfig(char_ngrams=(1, 3), word_bigrams=False),
        FeatureConfig(char_ngrams=(2, 5)),  # longer than a code holds: by name throughout
        FeatureConfig(char_ngrams=(0, 0)),
        FeatureConfig(negation_scope=False, concept_pairs=False),
    ],
    ids=["1-3 no bigrams", "2-5", "no characters", "no scopes"],
)
def test_other_feature_configurations(scorer, config):
    analyzer = Analyzer(scorer.rules, config)
    texts = _texts()
    analyses = [analyzer.analyze(t) for t in texts]
    # Every other feature of the texts: the encoder must find those and skip the rest.
    seen = sorted({f for a in analyses for f in a.features})
    vocabulary = {f: i for i, f in enumerate(seen[::2])}
    encoder = Encoder(vocabulary, config)
    messages, features = encoder.pairs(analyses)
    assert Counter(zip(messages.tolist(), features.tolist())) == _by_name(vocabulary, analyses)
    # One message at a time, without the names: the same bits as by name, in this configuration too.
    rng = np.random.default_rng(0)
    model = LinearModel(
        vocabulary=vocabulary,
        idf=rng.uniform(1, 8, len(vocabulary)),
        coef=rng.normal(0, 2, (len(vocabulary), len(scorer.labels))),
        intercept=rng.normal(0, 1, len(scorer.labels)),
        thresholds=dict.fromkeys(scorer.labels, 0.5),
        config=config,
        rules_toml=scorer.model.rules_toml,
    )
    one = np.array([model.proba_one(a.features) for a in analyses])
    assert np.array_equal(np.array([model.proba_analysis(a) for a in analyses]), one)
    assert np.array_equal(model.proba_analyses(analyses), one)


def test_empty_batch(scorer):
    assert scorer.model.proba_analyses([]).shape == (0, len(scorer.labels))
    assert scorer.score_many([]) == []


def test_characters_in_slices_are_the_same(scorer, monkeypatch):
    import redflag.encode

    analyses = [scorer.analyze(t)[0] for t in _texts()]
    whole = Counter(zip(*(a.tolist() for a in scorer.model.encoder.pairs(analyses))))
    # Slices of about 50 characters: most cuts fall between messages, some after a long one.
    monkeypatch.setattr(redflag.encode, "_SLICE", 50)
    sliced = Counter(zip(*(a.tolist() for a in scorer.model.encoder.pairs(analyses))))
    assert sliced == whole == _by_name(scorer.model.vocabulary, analyses)
