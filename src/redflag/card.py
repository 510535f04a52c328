"""The model card: what a model was trained on and how well it did, as Markdown."""

from __future__ import annotations

from typing import Any

__all__ = ["card_markdown"]


def card_markdown(card: dict[str, Any]) -> str:
    t = card.get("training", {})
    v = card.get("validation", {})
    lines = [
        "# redflag model card",
        "",
        f"- SHA-256: `{card.get('sha256', '?')}`",
        f"- versions: {', '.join(f'{k} {val}' for k, val in card.get('versions', {}).items())}",
        f"- training data: {t.get('examples')} messages ({t.get('safe')} safe) in {t.get('groups')} source parts; "
        f"data SHA-256 `{t.get('data_sha256')}`",
        f"- rules SHA-256 `{t.get('rules_sha256')}`; features: {t.get('features')}; "
        f"C={t.get('C')}, min_df={t.get('min_df')}, seed={t.get('seed')}",
        f"- weights in the fit: {_weights(t.get('weighted'))}",
        "",
        "## Messages per label",
        "",
        "| label | messages | threshold | maximizing F-beta |",
        "|---|---|---|---|",
    ]
    beta = t.get("threshold_f_beta")
    for label, n in t.get("per_label", {}).items():
        # Cards written before betas were chosen per label record one number.
        b = beta.get(label) if isinstance(beta, dict) else beta
        lines.append(
            f"| {label} | {n} | {card.get('thresholds', {}).get(label, float('nan')):.2f} | {'?' if b is None else f'{b:g}'} |"
        )
    lines += [
        "",
        f"## Validation: {v.get('method', '')}",
        "",
        "Thresholds were chosen on these out-of-fold scores; no message was scored by a model that saw "
        "its source part.",
        "",
        "| label | precision | recall | F1 | support | calibration ECE |",
        "|---|---|---|---|---|---|",
    ]
    ece = v.get("calibration_ece", {})
    for label, m in v.get("labels", {}).items():
        lines.append(
            f"| {label} | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} | {m['support']} | "
            f"{ece.get(label, float('nan')):.3f} |"
        )
    if v:
        lines += [
            "",
            f"- macro-F1 {v['macro_f1']:.3f}, micro-F1 {v['micro_f1']:.3f}, exact match {v['exact_match']:.3f}",
            f"- any risk: precision {v['any_precision']:.3f}, recall {v['any_recall']:.3f}; "
            f"false-positive rate on safe messages {v['safe_fpr']:.3f} ({v['n_safe']} safe)",
        ]
    return "\n".join(lines) + "\n"


def _weights(weighted: dict[str, int] | None) -> str:
    if not weighted:
        return "every message 1"
    return ", ".join(f"{n} messages {w}" for w, n in weighted.items()) + ", the others 1"
