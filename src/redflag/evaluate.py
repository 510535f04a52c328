"""Metrics for multi-label predictions: per-label P/R/F1, micro/macro F1, safe FPR, calibration."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from .labels import LABELS

__all__ = ["LabelMetrics", "Report", "RuleStats", "compute_report", "expected_calibration_error", "rule_table"]


@dataclass(frozen=True)
class LabelMetrics:
    precision: float
    recall: float
    f1: float
    support: int
    tp: int
    fp: int
    fn: int


@dataclass(frozen=True)
class Report:
    """Quality of predictions against gold labels."""

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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def format(self, title: str = "") -> str:
        lines = [f"{title}  n={self.n}" if title else f"n={self.n}"]
        for name, m in self.labels.items():
            lines.append(f"  {name:16s} P={m.precision:.3f} R={m.recall:.3f} F1={m.f1:.3f} (n={m.support})")
        lines.append(
            f"  any-risk         P={self.any_precision:.3f} R={self.any_recall:.3f} F1={self.any_f1:.3f}"
            f"  safe FPR={self.safe_fpr:.3f} (safe n={self.n_safe})"
        )
        lines.append(f"  micro-F1={self.micro_f1:.3f} macro-F1={self.macro_f1:.3f} exact-match={self.exact_match:.3f}")
        if self.calibration_ece:
            ece = " ".join(f"{k}={v:.3f}" for k, v in self.calibration_ece.items())
            lines.append(f"  calibration ECE: {ece}")
        return "\n".join(lines)


def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    """Mean |accuracy - confidence| over equal-width probability bins, weighted by bin size."""
    if len(y) == 0:
        return 0.0
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            total += mask.sum() * abs(float(y[mask].mean()) - float(p[mask].mean()))
    return total / len(y)


def compute_report(
    gold: Sequence[Sequence[str]],
    pred: Sequence[Sequence[str]],
    scores: np.ndarray | None = None,
    labels: Sequence[str] = LABELS,
) -> Report:
    """Compare predicted label sets with gold ones (same semantics as the shared metrics.py)."""
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
        per[lab] = LabelMetrics(pr, rc, f1, tp + fn, tp, fp, fn)
        tps, fps, fns = tps + tp, fps + fp, fns + fn
    atp = sum(1 for g, p in zip(gs, ps) if g and p)
    afp = sum(1 for g, p in zip(gs, ps) if not g and p)
    afn = sum(1 for g, p in zip(gs, ps) if g and not p)
    atn = sum(1 for g, p in zip(gs, ps) if not g and not p)
    ap, ar, af = _prf(atp, afp, afn)
    ece: dict[str, float] = {}
    if scores is not None and len(gold):
        for j, lab in enumerate(labels):
            y = np.array([lab in g for g in gs], dtype=float)
            ece[lab] = expected_calibration_error(y, np.asarray(scores)[:, j])
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
    )


@dataclass(frozen=True)
class RuleStats:
    """How a rule fires on labeled messages (negated hits do not count)."""

    rule: str
    label: str
    fires: int
    on_label: int
    on_other_risky: int
    on_safe: int

    @property
    def precision(self) -> float:
        return self.on_label / self.fires if self.fires else 0.0


def rule_table(hit_ids: Sequence[set[str]], gold: Sequence[Sequence[str]], rules: Any) -> list[RuleStats]:
    """Per-rule hit frequencies: on messages with the rule's label, other risky ones, safe ones.

    ``hit_ids[i]`` is the set of rule ids that fired (not negated) on message ``i``.
    """
    out = []
    for rule in rules:
        on_label = on_other = on_safe = 0
        for ids, labels in zip(hit_ids, gold):
            if rule.id not in ids:
                continue
            if rule.label in labels:
                on_label += 1
            elif labels:
                on_other += 1
            else:
                on_safe += 1
        out.append(RuleStats(rule.id, rule.label, on_label + on_other + on_safe, on_label, on_other, on_safe))
    return out


def format_rule_table(stats: Sequence[RuleStats]) -> str:
    lines = [f"{'rule':28s} {'label':16s} {'fires':>6s} {'on label':>9s} {'other':>6s} {'safe':>5s} {'precision':>9s}"]
    for r in sorted(stats, key=lambda r: (-r.fires, r.rule)):
        lines.append(
            f"{r.rule:28s} {r.label:16s} {r.fires:6d} {r.on_label:9d} {r.on_other_risky:6d} {r.on_safe:5d} "
            f"{r.precision:9.3f}"
        )
    return "\n".join(lines)
