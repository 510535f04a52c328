"""redflag.evaluate: metrics, calibration, PR curves and the rule table on hand-computed cases."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from redflag.cli.main import main
from redflag.dataset import default_examples
from redflag.evaluate import (
    compute_report,
    cross_validate,
    evaluate,
    expected_calibration_error,
    format_rule_table,
    reliability_bins,
    rule_table,
)
from redflag.features import FeatureConfig
from redflag.labels import LABELS
from redflag.model import LinearModel
from redflag.rules import default_rules_text, load_rules
from redflag.scorer import Scorer
from redflag.training import Example, train


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


# ---------------------------------------------------------------------- label metrics


def test_label_metrics_and_confusion_by_hand():
    gold = [["off_platform"], ["off_platform", "upfront_fee"], [], [], ["upfront_fee"]]
    pred = [["off_platform"], ["off_platform"], ["off_platform"], [], ["escrow_bypass"]]
    r = compute_report(gold, pred)
    off = r.labels["off_platform"]
    # Predicted on 1, 2, 3; gold on 1, 2: tp 2, fp 1 (message 3), fn 0, tn 2 (messages 4, 5).
    assert (off.tp, off.fp, off.fn, off.tn, off.support) == (2, 1, 0, 2, 2)
    assert off.precision == pytest.approx(2 / 3) and off.recall == 1.0 and off.f1 == pytest.approx(0.8)
    fee = r.labels["upfront_fee"]
    assert (fee.tp, fee.fp, fee.fn, fee.tn) == (0, 0, 2, 3) and fee.f1 == 0.0
    esc = r.labels["escrow_bypass"]
    assert (esc.tp, esc.fp, esc.fn, esc.tn) == (0, 1, 0, 4)
    # micro: tp 2, fp 2, fn 2 -> P = R = 0.5; macro: (0.8 + 0 + 0 + 0 + 0) / 5.
    assert r.micro_f1 == pytest.approx(0.5)
    assert r.macro_f1 == pytest.approx(0.16)
    # any risk: risky 1, 2, 5 all flagged; safe 3 flagged, 4 not.
    assert (r.n_risky, r.n_safe) == (3, 2)
    assert r.any_recall == 1.0 and r.any_precision == pytest.approx(0.75)
    assert r.safe_fpr == pytest.approx(0.5)
    assert r.exact_match == pytest.approx(2 / 5)  # messages 1 and 4
    for m in r.labels.values():
        assert m.tp + m.fp + m.fn + m.tn == r.n


def test_lengths_and_score_shape_are_checked():
    with pytest.raises(ValueError, match="2 gold rows but 1"):
        compute_report([[], []], [[]])
    with pytest.raises(ValueError, match="shape"):
        compute_report([[]], [[]], np.zeros((1, 2)))


# ---------------------------------------------------------------------- calibration and curves


def test_reliability_bins_and_ece_by_hand():
    y = np.array([0, 0, 1, 1, 1, 1])
    p = np.array([0.05, 0.15, 0.12, 0.95, 0.85, 1.0])
    bins = reliability_bins(y, p)
    got = [(b.lo, b.count, round(b.mean_predicted, 6), b.observed) for b in bins]
    # 1.0 falls in the last bin, with 0.95; empty bins are left out.
    assert got == [(0.0, 1, 0.05, 0.0), (0.1, 2, 0.135, 0.5), (0.8, 1, 0.85, 1.0), (0.9, 2, 0.975, 1.0)]
    # ECE = (1*0.05 + 2*0.365 + 1*0.15 + 2*0.025) / 6
    assert expected_calibration_error(y, p) == pytest.approx(0.98 / 6)
    assert expected_calibration_error(np.array([]), np.array([])) == 0.0


def test_pr_curve_and_average_precision_by_hand():
    gold = [["upfront_fee"], [], ["upfront_fee"], []]
    scores = np.zeros((4, len(LABELS)))
    scores[:, LABELS.index("upfront_fee")] = [0.9, 0.8, 0.7, 0.1]
    r = compute_report(gold, [["upfront_fee"], ["upfront_fee"], ["upfront_fee"], []], scores, detail=True)
    curve = r.pr_curves["upfront_fee"]
    # Thresholds 0.9: P 1, R 0.5; 0.8: P 0.5, R 0.5; 0.7: P 2/3, R 1.
    # AP = sum of (R_k - R_{k-1}) * P_k = 0.5 * 1 + 0 * 0.5 + 0.5 * 2/3.
    assert curve.average_precision == pytest.approx(0.5 + 1 / 3)
    points = set(zip(np.round(curve.recall, 6), np.round(curve.precision, 6)))
    assert (0.5, 1.0) in points and (1.0, round(2 / 3, 6)) in points
    assert len(curve.precision) == len(curve.recall) == len(curve.thresholds) + 1
    # A label without any positive has no curve (recall is undefined), but still has bins.
    assert "off_platform" not in r.pr_curves and r.calibration["off_platform"]
    assert not compute_report(gold, gold, scores).pr_curves  # only with detail=True


# ---------------------------------------------------------------------- rule table


class _R:
    def __init__(self, id: str, label: str) -> None:
        self.id, self.label = id, label


def test_rule_table_counts_by_hand():
    rules = [_R("a", "off_platform"), _R("b", "upfront_fee"), _R("never", "escrow_bypass")]
    hits = [{"a"}, {"a", "b"}, {"a"}, set(), {"b"}]
    gold = [["off_platform"], ["upfront_fee"], [], [], ["upfront_fee"]]
    decided = [{"a"}, {"b"}, {"a"}, set(), set()]
    a, b, never = rule_table(hits, gold, rules, decided)
    assert (a.fires, a.on_label, a.on_other_risky, a.on_safe) == (3, 1, 1, 1)
    assert (a.decided, a.decided_wrong) == (2, 1)  # message 3 is safe
    assert a.precision == pytest.approx(1 / 3)
    assert a.label_rate == 1.0 and a.safe_rate == pytest.approx(0.5)  # 1 of 1 off_platform, 1 of 2 safe
    assert (b.fires, b.on_label, b.decided, b.decided_wrong, b.label_rate) == (2, 2, 1, 0, 1.0)
    assert never.fires == 0 and never.precision == 0.0
    without = rule_table(hits, gold, rules)
    assert without[0].decided is None
    table = format_rule_table(without)
    assert table.splitlines()[1].split()[:3] == ["a", "off_platform", "3"]  # most frequent first
    assert table.splitlines()[1].split()[-2:] == ["-", "-"]


# ---------------------------------------------------------------------- evaluate() on a hand-built model

# A real model with hand-set weights, so every score is known: only three features count.
# Each weighs 10 toward one label; every intercept is -5; thresholds 0.5.
_VOCAB = {"r:channel.move": 0, "w:chatwork": 1, "r:ask.phone": 2}

_CASES = [
    # text, gold, expected prediction, rules expected to have decided it
    ("LINEで連絡ください", ["off_platform"], ["off_platform"], ["channel.move"]),
    # channel.move and the word chatwork: without the rule the word alone still gives z = 5.
    ("今後はChatworkでやり取りしましょう", [], ["off_platform"], []),
    # Two rules, two labels: each rule alone carries its label (z = 10/sqrt(2) - 5 > 0, 0 - 5 < 0).
    ("LINEで連絡してください。電話番号も教えてください", ["off_platform", "contact_request"],
     ["off_platform", "contact_request"], ["ask.phone", "channel.move"]),
    ("LINEでの連絡はお受けできません", [], [], []),  # negated hit: not a feature, not a hit
    ("納品ありがとうございました", [], [], []),
    ("LINEで話しましょう", [], ["off_platform"], ["channel.move"]),  # decided, and wrong
]  # fmt: skip


@pytest.fixture(scope="module")
def hand_model() -> LinearModel:
    coef = np.zeros((3, len(LABELS)))
    coef[0, LABELS.index("off_platform")] = 10.0
    coef[1, LABELS.index("off_platform")] = 10.0
    coef[2, LABELS.index("contact_request")] = 10.0
    return LinearModel(
        vocabulary=dict(_VOCAB),
        idf=np.ones(3),
        coef=coef,
        intercept=np.full(len(LABELS), -5.0),
        thresholds=dict.fromkeys(LABELS, 0.5),
        config=FeatureConfig(),
        rules_toml=default_rules_text(),
    )


@pytest.fixture(scope="module")
def hand_report(hand_model):
    examples = [Example(text, tuple(gold), id=f"m{i}") for i, (text, gold, _, _) in enumerate(_CASES, 1)]
    return evaluate(Scorer(hand_model), examples)


def test_evaluate_predictions_scores_and_decided(hand_model, hand_report):
    scorer = Scorer(hand_model)
    assessed = scorer.score_many([c[0] for c in _CASES])
    for o, (text, gold, pred, decided), a in zip(hand_report.outcomes, _CASES, assessed):
        assert o.text == text and o.gold == tuple(gold)
        assert set(o.pred) == set(pred), text
        assert o.pred == a.labels and o.scores == a.scores  # exactly what the scorer says
        assert sorted(o.decided) == decided, text
    first = hand_report.outcomes[0]
    assert first.scores["off_platform"] == pytest.approx(_sigmoid(5.0), abs=1e-6)
    assert first.hits == ("channel.move",) and first.negated == ()
    assert hand_report.outcomes[3].hits == () and hand_report.outcomes[3].negated == ("channel.move",)


def test_evaluate_report_by_hand(hand_report):
    r = hand_report
    off = r.labels["off_platform"]
    # Predicted on 1, 2, 3, 6; gold on 1, 3.
    assert (off.tp, off.fp, off.fn, off.tn) == (2, 2, 0, 2)
    assert (r.labels["contact_request"].tp, r.labels["contact_request"].fp) == (1, 0)
    assert r.macro_f1 == pytest.approx((2 / 3 + 1.0) / 5)
    assert r.micro_f1 == pytest.approx(0.75)  # tp 3, fp 2, fn 0
    assert r.safe_fpr == pytest.approx(0.5)  # 2 of the 4 safe messages flagged
    assert r.exact_match == pytest.approx(4 / 6)
    assert r.thresholds == dict.fromkeys(LABELS, 0.5)
    rules = {s.rule: s for s in r.rules}
    move = rules["channel.move"]
    assert (move.fires, move.on_label, move.on_other_risky, move.on_safe) == (4, 2, 0, 2)
    assert (move.decided, move.decided_wrong, move.n_label, move.n_safe) == (3, 1, 2, 4)
    phone = rules["ask.phone"]
    assert (phone.fires, phone.on_label, phone.decided, phone.decided_wrong) == (1, 1, 1, 0)
    assert {s.rule for s in r.rules} == {rule.id for rule in load_rules()}
    # The false positives carry evidence naming the rule; correct messages carry none.
    wrong = r.misclassified()
    assert [o.id for o in wrong] == ["m2", "m6"]
    assert all("channel.move" in {e.rule for e in o.evidence} for o in wrong)
    assert r.outcomes[0].evidence == ()
    assert [o.id for o in r.misclassified("contact_request")] == []
    assert wrong[0].false_positives == ("off_platform",) and wrong[0].false_negatives == ()


def test_report_serializes_and_formats(hand_report):
    d = json.loads(json.dumps(hand_report.to_dict(messages=True), ensure_ascii=False))
    assert d["labels"]["off_platform"]["tn"] == 2
    assert d["pr_curves"]["off_platform"]["average_precision"] == pytest.approx(
        hand_report.pr_curves["off_platform"].average_precision
    )
    assert sum(b["count"] for b in d["calibration"]["off_platform"]) == 6
    assert {r["rule"]: r["decided"] for r in d["rules"]}["channel.move"] == 3
    assert len(d["outcomes"]) == 6 and d["outcomes"][1]["evidence"][0]["rule"] == "channel.move"
    assert "outcomes" not in hand_report.to_dict()
    # A report from label sets alone keeps the short form (what a model card stores).
    short = compute_report([["off_platform"]], [["off_platform"]]).to_dict()
    assert not {"pr_curves", "calibration", "rules", "thresholds"} & set(short)
    text = hand_report.format("hand")
    assert text.splitlines()[0] == "hand  n=6 (risky 2, safe 4)"
    assert "reliability" in text and " tn " in text
    assert hand_report.format_rules().splitlines()[1].split()[:3] == ["channel.move", "off_platform", "4"]


def test_plots(hand_report):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ax = hand_report.plot_pr()
    # One step line and one operating point per label that has positives (off_platform, contact_request).
    assert len(ax.lines) == 2 * len(hand_report.pr_curves) == 4
    ax = hand_report.plot_calibration()
    assert len(ax.lines) == 1 + len(LABELS)  # the diagonal, then one line per label
    axes = hand_report.plot_confusion()
    assert len(axes) == len(LABELS)
    assert [t.get_text() for t in axes[0].texts] == ["2", "0", "2", "2"]  # tp fn / fp tn
    plt.close("all")
    with pytest.raises(ValueError, match="no precision-recall"):
        compute_report([[]], [[]]).plot_pr()


def test_eval_cli_prints_report_and_rule_table(hand_model, tmp_path, capsys):
    model = tmp_path / "hand.npz"
    hand_model.save(model)
    data = tmp_path / "gold.jsonl"
    data.write_text(
        "".join(
            json.dumps({"id": f"m{i}", "text": c[0], "labels": c[1]}, ensure_ascii=False) + "\n"
            for i, c in enumerate(_CASES)
        ),
        encoding="utf-8",
    )
    assert main(["eval", str(data), "--model", str(model), "--rules"]) == 0
    out = capsys.readouterr().out
    rows: dict[str, list[str]] = {}
    for line in out.splitlines():
        if line.strip():
            rows.setdefault(line.split()[0], line.split())  # the first row naming it
    # label row: label P R F1 AP n tp fp fn tn thr ECE
    assert rows["off_platform"][6:10] == ["2", "2", "0", "2"]
    # rule row: rule label fires on-label other safe label% safe% precision decided wrong
    assert rows["channel.move"][2:6] == ["4", "2", "0", "2"] and rows["channel.move"][-2:] == ["3", "1"]
    assert main(["eval", str(data), "--model", str(model), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert "rules" not in d and d["labels"]["off_platform"]["fp"] == 2
    assert main(["eval", str(data), "--model", str(model), "--json", "--rules", "--messages"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert len(d["outcomes"]) == 6 and {r["rule"] for r in d["rules"]} >= {"channel.move"}


# ---------------------------------------------------------------------- the default model


def test_evaluate_agrees_with_the_default_scorer(scorer):
    texts = [
        "今後のやり取りはＬ Ｉ Ｎ Ｅでお願いします！",
        "登録料3,000円をお振込みください",
        "納品しました。ご確認ください。",
    ]
    report = evaluate(scorer, [Example(t, ()) for t in texts])
    assert [o.pred for o in report.outcomes] == [a.labels for a in scorer.score_many(texts)]
    assert report.n_safe == 3 and report.safe_fpr == pytest.approx(2 / 3)


def test_cross_validate_reproduces_training_validation():
    # The same folds and thresholds as redflag.train: the figures are those of the model card.
    subset = default_examples()[::50]
    trained = train(subset, folds=3, seed=0)
    cv = cross_validate(subset, folds=3, seed=0)
    assert cv.thresholds == trained.model.thresholds
    assert cv.macro_f1 == pytest.approx(trained.validation.macro_f1)
    for label in LABELS:
        a, b = cv.labels[label], trained.validation.labels[label]
        assert (a.tp, a.fp, a.fn) == (b.tp, b.fp, b.fn)
    np.testing.assert_allclose(
        np.array([[o.scores[label] for label in LABELS] for o in cv.outcomes]), trained.oof_scores
    )
    # With given thresholds the operating point moves and nothing else does.
    strict = cross_validate(subset, folds=3, seed=0, thresholds=dict.fromkeys(LABELS, 0.9))
    assert strict.labels["off_platform"].fp <= cv.labels["off_platform"].fp
    assert strict.pr_curves["off_platform"] == cv.pr_curves["off_platform"]
    assert any(o.decided for o in cv.outcomes)
    # A trained model brings its rules, features and thresholds: its own validation split again.
    again = cross_validate(subset, folds=3, seed=0, model=trained.model)
    assert again.to_dict() == cv.to_dict()
    with pytest.raises(ValueError, match="either a model"):
        cross_validate(subset, model=trained.model, config=FeatureConfig())
