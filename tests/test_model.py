"""The model: fast path against scikit-learn, the file format, reproducibility, integrity."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from redflag.dataset import default_examples
from redflag.labels import LABELS
from redflag.model import LinearModel, ModelFormatError, sha256_file
from redflag.platforms import get_platform
from redflag.scorer import Scorer
from redflag.training import DEFAULT_BETA, Example, _best_threshold, _identity, train


@pytest.fixture(scope="module")
def small():
    examples = default_examples()
    # Every 7th message: a few hundred, every label present, quick to train.
    subset = examples[::7]
    return subset, train(subset, folds=3, seed=0)


def test_fast_path_matches_sklearn_reference(small):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    examples, result = small
    model = result.model
    scorer = Scorer(model)
    analyses = [scorer.analyze(ex.text)[0] for ex in examples]
    feats = [a.features for a in analyses]
    # Rebuild the same computation with scikit-learn objects and the fitted parameters.
    vec = TfidfVectorizer(analyzer=_identity, sublinear_tf=True, vocabulary=model.vocabulary)
    vec.fit(feats)
    vec.idf_ = model.idf
    X = vec.transform(feats)
    texts = [ex.text for ex in examples]
    fast_batch = np.array([[a.scores[label] for label in LABELS] for a in scorer.score_many(texts)])
    refs = np.zeros((len(texts), len(LABELS)))
    for j, _label in enumerate(LABELS):
        clf = LogisticRegression()
        clf.classes_ = np.array([0, 1])
        clf.coef_ = model.coef[:, j][None, :]
        clf.intercept_ = model.intercept[j : j + 1]
        refs[:, j] = clf.predict_proba(X)[:, 1]
        one = np.array([model.proba_one(f)[j] for f in feats])
        np.testing.assert_allclose(one, refs[:, j], atol=1e-9)
    # The scorer's final score: the probability, after the platform rule (generic: it changes
    # off_platform only in messages that state escrow or approval), discounted where the label is
    # unanchored.
    generic = get_platform("generic")
    final = np.array([scorer._apply_platform(a, row, generic, ())[0] for a, row in zip(analyses, refs)])
    changed = (final != refs).any(axis=1).sum()
    assert 0 < changed < len(texts) // 10
    for j, _label in enumerate(LABELS):
        factor = np.array([1.0 if _label in a.anchored else model.unanchored_factor for a in analyses])
        np.testing.assert_allclose(fast_batch[:, j], final[:, j] * factor, atol=1e-5)


def test_training_is_reproducible(small, tmp_path):
    examples, result = small
    again = train(examples, folds=3, seed=0)
    a, b = tmp_path / "a.npz", tmp_path / "b.npz"
    assert result.model.save(a) == again.model.save(b)
    assert a.read_bytes() == b.read_bytes()


def test_save_load_round_trip(small, tmp_path):
    _, result = small
    path = tmp_path / "m.npz"
    digest = result.model.save(path)
    loaded = LinearModel.load(path, sha256=digest)
    assert loaded.thresholds == result.model.thresholds
    assert loaded.vocabulary == result.model.vocabulary
    assert loaded.meta["training"]["data_sha256"] == result.model.meta["training"]["data_sha256"]
    for key in ("redflag", "scikit-learn", "fugashi", "unidic-lite"):
        assert key in loaded.meta["versions"]
    text = "LINEで連絡してください"
    assert Scorer(loaded).score(text) == Scorer(result.model).score(text)


def test_tampered_model_is_refused(small, tmp_path):
    _, result = small
    path = tmp_path / "m.npz"
    digest = result.model.save(path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFormatError, match="does not match the recorded"):
        LinearModel.load(path, sha256=digest)
    with pytest.raises(ModelFormatError):
        LinearModel.load(path)  # damaged even without a recorded hash


def test_check_refuses_what_load_refuses_without_loading(small, tmp_path):
    # The batch CLI checks the model this way when workers do the loading.
    import zipfile

    _, result = small
    good = tmp_path / "good.npz"
    result.model.save(good)
    assert Scorer.check(good)["labels"] == list(LABELS)
    assert Scorer.check()["format"] == "redflag-model"  # the shipped model
    # An archive missing an entry, and one whose entry fails its checksum, with hashes recorded.
    partial = tmp_path / "partial.npz"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(partial, "w") as dst:
        for name in src.namelist():
            if name != "coef.npy":
                dst.writestr(name, src.read(name))
    (tmp_path / "partial.npz.sha256").write_text(sha256_file(partial) + "  partial.npz\n", encoding="ascii")
    with pytest.raises(ModelFormatError, match=r"missing coef\.npy"):
        Scorer.check(partial)
    with pytest.raises(ModelFormatError):
        Scorer.load(partial)
    stored = tmp_path / "stored.npz"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(stored, "w", compression=zipfile.ZIP_STORED) as dst:
        for name in src.namelist():
            dst.writestr(name, src.read(name))
    data = bytearray(stored.read_bytes())
    data[len(data) // 2] ^= 0xFF  # inside the vocabulary entry, stored uncompressed
    stored.write_bytes(bytes(data))
    with pytest.raises(ModelFormatError, match="fails its checksum"):
        Scorer.check(stored, trust=True)
    with pytest.raises(ModelFormatError, match="no recorded SHA-256"):
        Scorer.check(tmp_path / "stored.npz")


class _Boom:
    def __reduce__(self):
        return (exec, ("import pathlib; pathlib.Path('PWNED').write_text('x')",))


def test_pickle_is_never_loaded(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "evil.joblib"
    path.write_bytes(pickle.dumps(_Boom()))
    with pytest.raises(ModelFormatError, match="no recorded SHA-256"):
        Scorer.load(path)
    # Even when trusted, the file is read as plain arrays: a pickle is refused, never run.
    with pytest.raises(ModelFormatError, match="pickle/joblib files are never loaded"):
        Scorer.load(path, trust=True)
    assert not (tmp_path / "PWNED").exists()


def test_default_model_hash_is_checked():
    from redflag.scorer import _default_model_path

    path, digest = _default_model_path()
    assert sha256_file(path) == digest


def test_missing_and_directory_paths(tmp_path):
    with pytest.raises(ModelFormatError, match="no such model file"):
        LinearModel.load(tmp_path / "none.npz")
    with pytest.raises(ModelFormatError, match="is a directory"):
        LinearModel.load(tmp_path)


def test_validation_metrics_are_recorded(small):
    _, result = small
    v = result.model.meta["validation"]
    assert set(v["labels"]) == set(LABELS)
    assert 0.0 <= v["macro_f1"] <= 1.0
    assert all(0.1 <= t <= 0.9 for t in result.model.thresholds.values())


def test_each_label_threshold_maximizes_its_own_f_beta(small):
    examples, result = small
    y = np.array([[label in ex.labels for label in LABELS] for ex in examples], dtype=np.int64)
    for j, label in enumerate(LABELS):
        expected = _best_threshold(y[:, j], result.oof_scores[:, j], DEFAULT_BETA[label])
        assert result.model.thresholds[label] == expected
    assert result.model.meta["training"]["threshold_f_beta"] == dict(DEFAULT_BETA)


def test_betas_that_differ_between_labels_each_choose_their_label_threshold():
    examples = default_examples()[::60]
    betas = dict(zip(LABELS, (0.5, 0.8, 1.0, 1.3, 2.0)))
    result = train(examples, folds=3, seed=0, beta=betas)
    y = np.array([[label in ex.labels for label in LABELS] for ex in examples], dtype=np.int64)
    for j, label in enumerate(LABELS):
        assert result.model.thresholds[label] == _best_threshold(y[:, j], result.oof_scores[:, j], betas[label])
    assert result.model.meta["training"]["threshold_f_beta"] == betas
    # Out-of-fold scores do not depend on the betas; only the thresholds chosen on them do.
    uniform = train(examples, folds=3, seed=0, beta=0.5)
    np.testing.assert_array_equal(uniform.oof_scores, result.oof_scores)
    assert uniform.model.thresholds != result.model.thresholds


@pytest.mark.parametrize("weight", [0.0, -1.0, float("nan"), float("inf")])
def test_training_refuses_a_weight_it_cannot_use(weight):
    examples = [Example("LINEで連絡ください", ("off_platform",), "a", "g1"), Example("納品しました", (), "b", "g2", weight)]
    with pytest.raises(ValueError, match=r"example 1 \(b\): weight .* must be a positive number"):
        train(examples, folds=2)


def test_training_needs_two_groups():
    from redflag.training import Example

    examples = [Example("LINEで連絡ください", ("off_platform",), group="g"), Example("納品しました", (), group="g")]
    with pytest.raises(ValueError, match="at least 2 groups"):
        train(examples)


def test_a_model_by_path_needs_its_recorded_hash_or_trust(small, tmp_path):
    _, result = small
    path = tmp_path / "m.npz"
    digest = result.model.save(path)
    side = tmp_path / "m.npz.sha256"
    assert side.read_text(encoding="ascii").split() == [digest, "m.npz"]
    assert Scorer.load(path).labels == result.model.labels  # the recorded hash matches

    data = bytearray(path.read_bytes())
    data[-30] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFormatError, match="does not match the recorded"):
        Scorer.load(path)
    with pytest.raises(ModelFormatError, match="does not match the recorded"):
        Scorer.load(path, trust=True)  # trust does not excuse a file that differs from its record

    bare = tmp_path / "bare.npz"
    result.model.save(bare, record=False)
    assert not (tmp_path / "bare.npz.sha256").exists()
    with pytest.raises(ModelFormatError, match=r"no recorded SHA-256 .*trust=True \(--trust-model\)"):
        Scorer.load(bare)
    assert Scorer.load(bare, trust=True).labels == result.model.labels
    assert Scorer.load(bare, sha256=digest).labels == result.model.labels


def test_cli_refuses_an_unrecorded_model_without_trust_model(small, tmp_path, capsys):
    from redflag.cli.main import main

    _, result = small
    bare = tmp_path / "bare.npz"
    result.model.save(bare, record=False)
    assert main(["explain", "LINEで連絡ください", "--model", str(bare)]) == 2
    assert "--trust-model" in capsys.readouterr().err
    assert main(["explain", "LINEで連絡ください", "--model", str(bare), "--trust-model"]) == 0


def test_feature_config_survives_save_and_load(small, tmp_path):
    from dataclasses import replace

    examples, result = small
    for config in (result.model.config, replace(result.model.config, concept_pairs=True, context_features=False)):
        model = replace(result.model, config=config)
        path = tmp_path / "m.npz"
        model.save(path)
        loaded = LinearModel.load(path)
        assert loaded.config == config
        texts = [ex.text for ex in examples[:50]]
        # The file keeps weights as float32: scores agree to that precision.
        got = np.array([list(a.scores.values()) for a in Scorer(loaded).score_many(texts)])
        want = np.array([list(a.scores.values()) for a in Scorer(model).score_many(texts)])
        np.testing.assert_allclose(got, want, atol=1e-5)
