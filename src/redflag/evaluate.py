"""How well a model does on labeled messages, in numbers and pictures a person can check.

- :func:`evaluate` scores labeled examples with a :class:`~redflag.scorer.Scorer` and returns a
  :class:`Report`: per-label precision/recall/F1 and confusion counts (tp/fp/fn/tn), micro/macro
  F1, any-risk figures and the false-positive rate on safe messages, calibration (ECE and
  reliability-diagram bins), precision-recall curves with average precision, the per-rule hit
  table and one :class:`Outcome` per message.
- :func:`cross_validate` gives the same report on out-of-fold predictions, with the folds of
  :func:`redflag.training.train`: the "validation split" of a model trained on those examples.
- :func:`compute_report` works from label sets (and optionally scores) alone.

The rule table follows SpamAssassin's per-rule hit frequencies: how often each rule fires on
messages that carry its label, on other risky messages and on safe ones, its precision, and the
messages it *decided*. A rule decided a message when the message was given the rule's label and
would not have been without that rule's hit: the rule's ``r:`` feature is removed from the
message's features and the label's score, recomputed with everything else unchanged (words,
n-grams, anchors), falls below the label's threshold. ``decided_wrong`` counts those whose gold
labels lack the rule's label: false positives that rule alone is answerable for.

Plots (:meth:`Report.plot_pr`, :meth:`Report.plot_calibration`, :meth:`Report.plot_confusion`)
need matplotlib (``pip install 'redflag[notebooks]'``), imported only when a plot is drawn.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .labels import LABELS
from .results import Evidence

if TYPE_CHECKING:
    from .features import Analysis, FeatureConfig
    from .model import LinearModel
    from .scorer import Scorer
    from .training import Example

__all__ = [
    "CalibrationBin",
    "LabelMetrics",
    "Outcome",
    "PRCurve",
    "Report",
    "RuleStats",
    "compute_report",
    "cross_validate",
    "evaluate",
    "expected_calibration_error",
    "format_rule_table",
    "reliability_bins",
    "rule_table",
]


@dataclass(frozen=True)
class LabelMetrics:
    """One label: precision, recall, F1, and the confusion counts they come from."""

    precision: float
    recall: float
    f1: float
    support: int
    tp: int
    fp: int
    fn: int
    tn: int = 0


@dataclass(frozen=True)
class CalibrationBin:
    """One bin of a reliability diagram: scores in ``[lo, hi)`` (the last bin includes 1.0)."""

    lo: float
    hi: float
    count: int
    mean_predicted: float
    observed: float


@dataclass(frozen=True)
class PRCurve:
    """Precision and recall at every score threshold (``sklearn.metrics.precision_recall_curve``).

    ``precision`` and ``recall`` have one more point than ``thresholds``: the last is (1, 0).
    """

    precision: tuple[float, ...]
    recall: tuple[float, ...]
    thresholds: tuple[float, ...]
    average_precision: float


@dataclass(frozen=True)
class RuleStats:
    """How a rule fires on labeled messages (negated hits do not count).

    ``decided`` / ``decided_wrong`` are ``None`` when they were not computed (from hit sets
    alone, without a model).
    """

    rule: str
    label: str
    fires: int
    on_label: int
    on_other_risky: int
    on_safe: int
    decided: int | None = None
    decided_wrong: int | None = None
    #: Messages carrying the rule's label, and safe messages, in the data the table was built on.
    n_label: int = 0
    n_safe: int = 0

    @property
    def precision(self) -> float:
        """Share of the rule's hits on messages that carry its label."""
        return self.on_label / self.fires if self.fires else 0.0

    @property
    def label_rate(self) -> float:
        """Share of the messages carrying the rule's label on which it fires."""
        return self.on_label / self.n_label if self.n_label else 0.0

    @property
    def safe_rate(self) -> float:
        """Share of safe messages on which it fires."""
        return self.on_safe / self.n_safe if self.n_safe else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "precision": self.precision, "label_rate": self.label_rate, "safe_rate": self.safe_rate}


@dataclass(frozen=True)
class Outcome:
    """One evaluated message: gold and predicted labels, scores, rule hits and evidence.

    ``evidence`` is filled for messages with a wrong prediction (the words behind each label
    given); ``decided`` lists the rules that decided a label (see the module docstring).
    """

    id: str
    text: str
    gold: tuple[str, ...]
    pred: tuple[str, ...]
    scores: dict[str, float]
    hits: tuple[str, ...] = ()
    negated: tuple[str, ...] = ()
    decided: tuple[str, ...] = ()
    evidence: tuple[Evidence, ...] = ()

    @property
    def correct(self) -> bool:
        return set(self.gold) == set(self.pred)

    @property
    def false_positives(self) -> tuple[str, ...]:
        """Labels given that the gold labels lack."""
        return tuple(label for label in self.pred if label not in self.gold)

    @property
    def false_negatives(self) -> tuple[str, ...]:
        """Gold labels that were not given."""
        return tuple(label for label in self.gold if label not in self.pred)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for key in ("gold", "pred", "hits", "negated", "decided"):
            d[key] = list(d[key])
        d["evidence"] = [asdict(e) for e in self.evidence]
        return d


@dataclass(frozen=True)
class Report:
    """Quality of predictions against gold labels.

    The fields after ``calibration_ece`` are filled by :func:`evaluate` and
    :func:`cross_validate` (or :func:`compute_report` with ``detail=True``) and are empty
    otherwise.
    """

    n: int
    labels: dict[str, LabelMetrics]
    micro_f1: float
    macro_f1: float
    any_precision: float
    any_recall: float
    any_f1: float
    safe_fpr: float
    n_safe: int
    n_risky: int
    exact_match: float
    calibration_ece: dict[str, float] = field(default_factory=dict)
    thresholds: dict[str, float] = field(default_factory=dict)
    calibration: dict[str, tuple[CalibrationBin, ...]] = field(default_factory=dict)
    pr_curves: dict[str, PRCurve] = field(default_factory=dict)
    rules: tuple[RuleStats, ...] = ()
    outcomes: tuple[Outcome, ...] = ()

    def to_dict(self, *, messages: bool = False) -> dict[str, Any]:
        """A JSON-ready dict; the detail fields only when filled, per-message outcomes only with ``messages``."""
        d: dict[str, Any] = {
            "n": self.n,
            "labels": {k: asdict(m) for k, m in self.labels.items()},
            "micro_f1": self.micro_f1,
            "macro_f1": self.macro_f1,
            "any_precision": self.any_precision,
            "any_recall": self.any_recall,
            "any_f1": self.any_f1,
            "safe_fpr": self.safe_fpr,
            "n_safe": self.n_safe,
            "n_risky": self.n_risky,
            "exact_match": self.exact_match,
            "calibration_ece": dict(self.calibration_ece),
        }
        if self.thresholds:
            d["thresholds"] = dict(self.thresholds)
        if self.calibration:
            d["calibration"] = {k: [asdict(b) for b in bins] for k, bins in self.calibration.items()}
        if self.pr_curves:
            d["pr_curves"] = {
                k: {
                    "average_precision": c.average_precision,
                    "precision": list(c.precision),
                    "recall": list(c.recall),
                    "thresholds": list(c.thresholds),
                }
                for k, c in self.pr_curves.items()
            }
        if self.rules:
            d["rules"] = [r.to_dict() for r in self.rules]
        if messages:
            d["outcomes"] = [o.to_dict() for o in self.outcomes]
        return d

    def format(self, title: str = "") -> str:
        """The report as text: one row per label, then any-risk, micro/macro F1 and calibration."""
        head = f"n={self.n} (risky {self.n_risky}, safe {self.n_safe})"
        lines = [f"{title}  {head}" if title else head]
        cols = f"  {'label':16s} {'P':>5s} {'R':>5s} {'F1':>5s}"
        if self.pr_curves:
            cols += f" {'AP':>5s}"
        cols += f" {'n':>5s} {'tp':>5s} {'fp':>5s} {'fn':>5s} {'tn':>6s}"
        if self.thresholds:
            cols += f" {'thr':>5s}"
        if self.calibration_ece:
            cols += f" {'ECE':>5s}"
        lines.append(cols)
        for name, m in self.labels.items():
            row = f"  {name:16s} {m.precision:5.3f} {m.recall:5.3f} {m.f1:5.3f}"
            if self.pr_curves:
                curve = self.pr_curves.get(name)
                row += f" {curve.average_precision:5.3f}" if curve else f" {'-':>5s}"
            row += f" {m.support:5d} {m.tp:5d} {m.fp:5d} {m.fn:5d} {m.tn:6d}"
            if self.thresholds:
                row += f" {self.thresholds.get(name, float('nan')):5.2f}"
            if self.calibration_ece:
                row += f" {self.calibration_ece.get(name, float('nan')):5.3f}"
            lines.append(row)
        lines.append(
            f"  any-risk         P={self.any_precision:.3f} R={self.any_recall:.3f} F1={self.any_f1:.3f}"
            f"  safe FPR={self.safe_fpr:.3f} (safe n={self.n_safe})"
        )
        lines.append(f"  micro-F1={self.micro_f1:.3f} macro-F1={self.macro_f1:.3f} exact-match={self.exact_match:.3f}")
        if self.calibration:
            lines.append("  reliability (score bin: mean score -> share with the label, n):")
            for name, bins in self.calibration.items():
                cells = " ".join(
                    f"[{b.lo:.1f},{b.hi:.1f}) {b.mean_predicted:.2f}->{b.observed:.2f} n={b.count}" for b in bins
                )
                lines.append(f"    {name:16s} {cells}")
        return "\n".join(lines)

    def format_rules(self) -> str:
        """The per-rule hit table as text (see :func:`format_rule_table`)."""
        return format_rule_table(self.rules)

    def misclassified(self, label: str | None = None) -> list[Outcome]:
        """Messages whose predicted labels differ from the gold ones (for ``label``: on that label)."""
        if label is None:
            return [o for o in self.outcomes if not o.correct]
        return [o for o in self.outcomes if (label in o.gold) != (label in o.pred)]

    # ------------------------------------------------------------------ plots

    def plot_pr(self, ax: Any = None) -> Any:
        """Precision-recall curve per label, with the operating point at the model's threshold."""
        plt = _pyplot()
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 5))
        if not self.pr_curves:
            raise ValueError("this report has no precision-recall curves (scores were not given)")
        for name, curve in self.pr_curves.items():
            (line,) = ax.step(
                curve.recall, curve.precision, where="post", label=f"{name} (AP {curve.average_precision:.3f})"
            )
            m = self.labels[name]
            ax.plot([m.recall], [m.precision], "o", color=line.get_color())
        ax.set_xlabel("recall")
        ax.set_ylabel("precision")
        ax.set_xlim(0.0, 1.02)
        ax.set_ylim(0.0, 1.02)
        ax.set_title("Precision-recall per label (dot: at the threshold)")
        ax.grid(alpha=0.3)
        ax.legend(loc="lower left", fontsize="small")
        return ax

    def plot_calibration(self, ax: Any = None) -> Any:
        """Reliability diagram: per score bin, the mean score against the share that has the label."""
        plt = _pyplot()
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 5))
        if not self.calibration:
            raise ValueError("this report has no calibration bins (scores were not given)")
        ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=1, label="perfectly calibrated")
        for name, bins in self.calibration.items():
            ece = self.calibration_ece.get(name)
            ax.plot(
                [b.mean_predicted for b in bins],
                [b.observed for b in bins],
                marker="o",
                label=f"{name} (ECE {ece:.3f})" if ece is not None else name,
            )
        ax.set_xlabel("mean score in bin")
        ax.set_ylabel("share of messages with the label")
        ax.set_xlim(0.0, 1.0)
        ax.set_ylim(0.0, 1.0)
        ax.set_title("Calibration (reliability diagram)")
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left", fontsize="small")
        return ax

    def plot_confusion(self, axes: Any = None) -> Any:
        """One 2x2 confusion matrix per label (rows: gold, columns: predicted); returns the axes."""
        plt = _pyplot()
        names = list(self.labels)
        if axes is None:
            _, axes = plt.subplots(1, len(names), figsize=(2.8 * len(names), 3.0), squeeze=False)
            axes = axes[0]
        for ax, name in zip(axes, names):
            m = self.labels[name]
            grid = np.array([[m.tp, m.fn], [m.fp, m.tn]])
            # Colour by share of the row, so a rare label's errors are as visible as a common one's.
            rows = grid.sum(axis=1, keepdims=True)
            ax.imshow(np.divide(grid, rows, out=np.zeros(grid.shape), where=rows > 0), cmap="Blues", vmin=0, vmax=1)
            for (i, j), v in np.ndenumerate(grid):
                ax.text(j, i, str(v), ha="center", va="center", fontsize="small")
            ax.set_xticks([0, 1], ["yes", "no"])
            ax.set_yticks([0, 1], ["yes", "no"])
            ax.set_xlabel("predicted")
            ax.set_ylabel("gold")
            ax.set_title(name, fontsize="small")
        return axes


def _pyplot() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # matplotlib is an optional dependency
        raise ImportError("plots need matplotlib: pip install 'redflag[notebooks]'") from exc
    return plt


# ---------------------------------------------------------------------- metrics


def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def _bin_index(p: np.ndarray, bins: int) -> np.ndarray:
    """Equal-width bins over [0, 1]; a score of exactly 1.0 falls in the last bin."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    return np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)


def reliability_bins(y: np.ndarray, p: np.ndarray, bins: int = 10) -> tuple[CalibrationBin, ...]:
    """The non-empty bins of a reliability diagram over equal-width score bins."""
    y, p = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    which = _bin_index(p, bins)
    out = []
    for b in range(bins):
        mask = which == b
        if mask.any():
            out.append(
                CalibrationBin(b / bins, (b + 1) / bins, int(mask.sum()), float(p[mask].mean()), float(y[mask].mean()))
            )
    return tuple(out)


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    """Mean |observed - mean score| over equal-width score bins, weighted by bin size."""
    if len(y) == 0:
        return 0.0
    return sum(b.count * abs(b.observed - b.mean_predicted) for b in reliability_bins(y, p, bins)) / len(y)


def _pr_curve(y: np.ndarray, s: np.ndarray) -> PRCurve | None:
    """The curve and average precision, or ``None`` when there is no positive (recall undefined)."""
    if not y.any():
        return None
    from sklearn.metrics import average_precision_score, precision_recall_curve

    precision, recall, thresholds = precision_recall_curve(y, s, drop_intermediate=True)
    return PRCurve(
        tuple(float(v) for v in precision),
        tuple(float(v) for v in recall),
        tuple(float(v) for v in thresholds),
        float(average_precision_score(y, s)),
    )


def compute_report(
    gold: Sequence[Sequence[str]],
    pred: Sequence[Sequence[str]],
    scores: np.ndarray | None = None,
    labels: Sequence[str] = LABELS,
    *,
    detail: bool = False,
    bins: int = 10,
    thresholds: dict[str, float] | None = None,
) -> Report:
    """Compare predicted label sets with gold ones (same semantics as the shared metrics.py).

    ``scores`` (n_messages x n_labels, columns in ``labels`` order) adds the calibration error;
    with ``detail`` also reliability bins and precision-recall curves.
    """
    if len(gold) != len(pred):
        raise ValueError(f"{len(gold)} gold rows but {len(pred)} predictions")
    gs = [set(g) for g in gold]
    ps = [set(p) for p in pred]
    per: dict[str, LabelMetrics] = {}
    tps = fps = fns = 0
    for lab in labels:
        tp = sum(1 for g, p in zip(gs, ps) if lab in g and lab in p)
        fp = sum(1 for g, p in zip(gs, ps) if lab not in g and lab in p)
        fn = sum(1 for g, p in zip(gs, ps) if lab in g and lab not in p)
        pr, rc, f1 = _prf(tp, fp, fn)
        per[lab] = LabelMetrics(pr, rc, f1, tp + fn, tp, fp, fn, len(gs) - tp - fp - fn)
        tps, fps, fns = tps + tp, fps + fp, fns + fn
    atp = sum(1 for g, p in zip(gs, ps) if g and p)
    afp = sum(1 for g, p in zip(gs, ps) if not g and p)
    afn = sum(1 for g, p in zip(gs, ps) if g and not p)
    atn = sum(1 for g, p in zip(gs, ps) if not g and not p)
    ap, ar, af = _prf(atp, afp, afn)
    ece: dict[str, float] = {}
    calibration: dict[str, tuple[CalibrationBin, ...]] = {}
    curves: dict[str, PRCurve] = {}
    if scores is not None and len(gold):
        matrix = np.asarray(scores, dtype=float)
        if matrix.shape != (len(gold), len(labels)):
            raise ValueError(f"scores have shape {matrix.shape}, expected {(len(gold), len(labels))}")
        for j, lab in enumerate(labels):
            y = np.array([lab in g for g in gs], dtype=float)
            ece[lab] = expected_calibration_error(y, matrix[:, j], bins)
            if detail:
                calibration[lab] = reliability_bins(y, matrix[:, j], bins)
                curve = _pr_curve(y.astype(bool), matrix[:, j])
                if curve is not None:
                    curves[lab] = curve
    return Report(
        n=len(gs),
        labels=per,
        micro_f1=_prf(tps, fps, fns)[2],
        macro_f1=sum(m.f1 for m in per.values()) / len(labels) if labels else 0.0,
        any_precision=ap,
        any_recall=ar,
        any_f1=af,
        safe_fpr=afp / (afp + atn) if afp + atn else 0.0,
        n_safe=afp + atn,
        n_risky=atp + afn,
        exact_match=sum(1 for g, p in zip(gs, ps) if g == p) / len(gs) if gs else 0.0,
        calibration_ece=ece,
        thresholds=dict(thresholds or {}),
        calibration=calibration,
        pr_curves=curves,
    )


# ---------------------------------------------------------------------- rules


def rule_table(
    hit_ids: Sequence[Iterable[str]],
    gold: Sequence[Sequence[str]],
    rules: Any,
    decided: Sequence[Iterable[str]] | None = None,
) -> list[RuleStats]:
    """Per-rule hit frequencies: on messages with the rule's label, other risky ones, safe ones.

    ``hit_ids[i]`` is the set of rule ids that fired (not negated) on message ``i``;
    ``decided[i]``, when given, the rule ids that decided one of its labels (module docstring).
    ``rules`` is any iterable of objects with ``id`` and ``label`` (a :class:`~redflag.rules.RuleSet`).
    """
    hits = [set(ids) for ids in hit_ids]
    gsets = [set(g) for g in gold]
    dsets = [set(d) for d in decided] if decided is not None else None
    n_safe = sum(1 for g in gsets if not g)
    out = []
    for rule in rules:
        on_label = on_other = on_safe = 0
        for ids, labels in zip(hits, gsets):
            if rule.id not in ids:
                continue
            if rule.label in labels:
                on_label += 1
            elif labels:
                on_other += 1
            else:
                on_safe += 1
        dec = dec_wrong = None
        if dsets is not None:
            dec = sum(1 for d in dsets if rule.id in d)
            dec_wrong = sum(1 for d, g in zip(dsets, gsets) if rule.id in d and rule.label not in g)
        out.append(
            RuleStats(
                rule.id,
                rule.label,
                on_label + on_other + on_safe,
                on_label,
                on_other,
                on_safe,
                dec,
                dec_wrong,
                n_label=sum(1 for g in gsets if rule.label in g),
                n_safe=n_safe,
            )
        )
    return out


def format_rule_table(stats: Sequence[RuleStats]) -> str:
    """Rules by how often they fire: counts, rates on their label and on safe messages, precision, decided."""
    lines = [
        f"{'rule':28s} {'label':16s} {'fires':>6s} {'on label':>9s} {'other':>6s} {'safe':>5s} "
        f"{'label%':>7s} {'safe%':>6s} {'precision':>9s} {'decided':>8s} {'wrong':>6s}"
    ]
    for r in sorted(stats, key=lambda r: (-r.fires, r.rule)):
        dec = f"{r.decided:8d}" if r.decided is not None else f"{'-':>8s}"
        wrong = f"{r.decided_wrong:6d}" if r.decided_wrong is not None else f"{'-':>6s}"
        lines.append(
            f"{r.rule:28s} {r.label:16s} {r.fires:6d} {r.on_label:9d} {r.on_other_risky:6d} {r.on_safe:5d} "
            f"{100 * r.label_rate:6.1f}% {100 * r.safe_rate:5.1f}% {r.precision:9.3f} {dec} {wrong}"
        )
    return "\n".join(lines)


# ---------------------------------------------------------------------- evaluation


def _decisive(scorer: Scorer, analysis: Analysis, pred: Sequence[str]) -> tuple[str, ...]:
    """Rules whose hit carried a label given to the message over its threshold (module docstring)."""
    model = scorer.model
    if not model.config.rule_features:
        return ()  # rule hits are not features of this model: removing one changes no score
    candidates = sorted({h.rule.id: h.label for h in analysis.hits if not h.negated and h.label in pred}.items())
    if not candidates:
        return ()
    variants = [[f for f in analysis.features if f != "r:" + rule_id] for rule_id, _ in candidates]
    without = model.proba(variants)
    out = []
    for (rule_id, label), row in zip(candidates, without):
        j = model.labels.index(label)
        if model.combine(row, analysis.anchored)[j] < model.thresholds[label]:
            out.append(rule_id)
    return tuple(out)


def _outcome(scorer: Scorer, ex: Example, analysis: Analysis, scores: np.ndarray, pred: tuple[str, ...]) -> Outcome:
    gold = tuple(ex.labels)
    evidence: tuple[Evidence, ...] = ()
    if pred and set(pred) != set(gold):
        # Only wrong predictions carry evidence: it is what a reader of the errors needs, and
        # building it for every message would double the cost of a large evaluation.
        evidence = scorer.score(ex.text, explain=True).evidence
    return Outcome(
        id=ex.id,
        text=ex.text,
        gold=gold,
        pred=pred,
        scores={label: float(v) for label, v in zip(scorer.labels, scores)},
        hits=tuple(dict.fromkeys(h.rule.id for h in analysis.hits if not h.negated)),
        negated=tuple(dict.fromkeys(h.rule.id for h in analysis.hits if h.negated)),
        decided=_decisive(scorer, analysis, pred),
        evidence=evidence,
    )


def _report(
    outcomes: Sequence[Outcome],
    scores: np.ndarray,
    labels: Sequence[str],
    thresholds: dict[str, float],
    rules: Any,
    bins: int,
) -> Report:
    gold = [o.gold for o in outcomes]
    base = compute_report(
        gold, [o.pred for o in outcomes], scores, labels, detail=True, bins=bins, thresholds=thresholds
    )
    table = rule_table([o.hits for o in outcomes], gold, rules, [o.decided for o in outcomes])
    return replace(base, rules=tuple(table), outcomes=tuple(outcomes))


def evaluate(scorer: Scorer, examples: Sequence[Example], *, bins: int = 10) -> Report:
    """Score labeled ``examples`` with ``scorer`` and return the full :class:`Report`.

    Labels and scores are exactly those of ``scorer.score`` (default options).
    """
    outcomes = []
    rows = []
    for ex in examples:
        a, analysis = scorer.score_with_analysis(ex.text, explain=False)
        row = np.array([a.scores[label] for label in scorer.labels])
        rows.append(row)
        outcomes.append(_outcome(scorer, ex, analysis, row, tuple(a.labels)))
    scores = np.array(rows).reshape(len(examples), len(scorer.labels))
    return _report(outcomes, scores, scorer.labels, dict(scorer.model.thresholds), scorer.rules, bins)


def cross_validate(
    examples: Sequence[Example],
    *,
    model: LinearModel | None = None,
    folds: int | None = None,
    seed: int = 0,
    thresholds: dict[str, float] | None = None,
    rules_path: str | Path | None = None,
    config: FeatureConfig | None = None,
    C: float | None = None,
    min_df: int | None = None,
    beta: float | Mapping[str, float] | None = None,
    bins: int = 10,
    progress: bool = False,
) -> Report:
    """The report on out-of-fold predictions, with the folds and settings of :func:`redflag.training.train`.

    Each message is scored by a model fit on the folds that do not hold its group. Without
    ``thresholds`` they are chosen on these out-of-fold scores as ``train`` chooses them, so for
    the same examples, seed and settings the figures equal the model card's validation figures.
    Passing a model's own thresholds (``scorer.model.thresholds``) measures that model's
    operating point instead.

    ``model`` takes the rules, feature configuration and thresholds from a trained model: the
    validation split of that model (given the examples it was trained on; compare
    ``model.meta["training"]["data_sha256"]`` with :func:`redflag.training.data_hash`).
    """
    from .features import Analyzer, FeatureConfig
    from .model import LinearModel
    from .rules import default_rules_text, load_rules
    from .scorer import Scorer
    from .training import (
        DEFAULT_BETA,
        DEFAULT_C,
        DEFAULT_FOLDS,
        DEFAULT_MIN_DF,
        _best_threshold,
        _rows,
        fit_model,
        label_betas,
        prepare_folds,
        sample_weights,
    )

    folds = DEFAULT_FOLDS if folds is None else folds
    C = DEFAULT_C if C is None else C
    min_df = DEFAULT_MIN_DF if min_df is None else min_df
    betas = label_betas(DEFAULT_BETA if beta is None else beta)
    if len(examples) < 2:
        raise ValueError(f"need at least 2 examples, got {len(examples)}")
    if model is not None:
        if rules_path is not None or config is not None:
            raise ValueError("give either a model or rules_path/config: a model brings its own")
        rules_toml = model.rules_toml
        config = model.config
        thresholds = dict(model.thresholds) if thresholds is None else thresholds
    else:
        rules_toml = Path(rules_path).read_text(encoding="utf-8") if rules_path else default_rules_text()
    rules = load_rules(text=rules_toml)
    config = config or FeatureConfig()
    analyzer = Analyzer(rules, config)
    weights = sample_weights(examples)
    analyses, y, fold_of, k, _ = prepare_folds(examples, analyzer, folds=folds, seed=seed, progress=progress)

    if thresholds is not None:
        missing = set(LABELS) - set(thresholds)
        if missing:
            raise ValueError(f"thresholds are missing for {sorted(missing)}")
    scores = np.zeros(y.shape, dtype=np.float64)
    outcomes: list[Outcome | None] = [None] * len(examples)
    # Fold models are kept only until thresholds are known: with given thresholds each fold's
    # messages are finished (rules decided, evidence) before the next fold is fit.
    pending: list[tuple[LinearModel, np.ndarray]] = []

    def finish(fold_model: LinearModel, va: np.ndarray, chosen: dict[str, float]) -> None:
        fold_model.thresholds = {lab: float(chosen[lab]) for lab in LABELS}
        scorer = Scorer(fold_model)
        for i in va:
            pred = tuple(lab for j, lab in enumerate(LABELS) if scores[i, j] >= chosen[lab])
            outcomes[i] = _outcome(scorer, examples[i], analyses[i], scores[i], pred)

    for f in range(k):
        tr, va = np.where(fold_of != f)[0], np.where(fold_of == f)[0]
        vocab, idf, coef, intercept = fit_model(
            [analyses[i].features for i in tr], y[tr], C=C, min_df=min_df, seed=seed, sample_weight=_rows(weights, tr)
        )
        fold_model = LinearModel(vocab, idf, coef, intercept, {lab: 0.5 for lab in LABELS}, config, rules_toml)
        probs = fold_model.proba([analyses[i].features for i in va])
        scores[va] = np.stack([fold_model.combine(p, analyses[i].anchored) for p, i in zip(probs, va)])
        if thresholds is not None:
            finish(fold_model, va, thresholds)
        else:
            pending.append((fold_model, va))
    if thresholds is None:
        thresholds = {lab: _best_threshold(y[:, j], scores[:, j], betas[lab]) for j, lab in enumerate(LABELS)}
        for fold_model, va in pending:
            finish(fold_model, va, thresholds)
    return _report([o for o in outcomes if o is not None], scores, LABELS, dict(thresholds), rules, bins)
