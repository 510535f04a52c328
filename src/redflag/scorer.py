"""The scorer: one analysis pass, model probabilities, rule evidence, one Assessment."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
import regex

from .features import Analysis, Analyzer, char_view
from .labels import LABEL_INFO
from .model import LinearModel, ModelFormatError
from .pii import mask_assessment
from .results import Assessment, Evidence, Level
from .rules import load_rules

__all__ = ["DEFAULT_MAX_CHARS", "Scorer", "level_for"]

#: Longer messages are cut to this many characters and the Assessment says ``truncated``.
DEFAULT_MAX_CHARS = 20_000
#: How many words the model weighed most are shown as evidence per label.
MODEL_EVIDENCE = 3
# Particles, auxiliaries and punctuation carry weight in the model but mean nothing to a reader.
_FUNCTION_WORD = regex.compile(r"[\p{Hiragana}\p{P}\p{S}\s]+|[a-z]{1,2}")
# Digits are folded to 0 and spaces kept in n-grams; neither makes sense shown alone.
_PUNCT = regex.compile(r"[\p{P}\p{S}\s0#]")
_LEVELS: tuple[tuple[float, Level], ...] = ((0.85, "high"), (0.6, "medium"))


def level_for(labels: Sequence[str], scores: dict[str, float]) -> Level:
    """``safe`` when no label is given; otherwise by the highest score among the labels given."""
    if not labels:
        return "safe"
    top = max(scores[label] for label in labels)
    for bound, name in _LEVELS:
        if top >= bound:
            return name
    return "low"


def _default_model_path() -> tuple[Path, str]:
    root = resources.files("redflag").joinpath("models")
    path = Path(str(root.joinpath("default.npz")))
    digest = root.joinpath("default.sha256").read_text(encoding="ascii").split()[0]
    return path, digest


class Scorer:
    """Score messages with a model and the rules it was trained with.

    >>> scorer = Scorer.load()
    >>> a = scorer.score("今後のやり取りはLINEでお願いします。IDはyamada123です")
    >>> "off_platform" in a.labels
    True
    """

    def __init__(self, model: LinearModel, *, max_chars: int = DEFAULT_MAX_CHARS) -> None:
        self.model = model
        self.rules = load_rules(text=model.rules_toml)
        self.analyzer = Analyzer(self.rules, model.config)
        self.max_chars = max_chars
        self._thresholds = np.array([model.thresholds[label] for label in model.labels])

    @classmethod
    def load(cls, path: str | Path | None = None, *, sha256: str | None = None, **kwargs: int) -> Scorer:
        """Load a model file; ``None`` loads the default model shipped with redflag.

        The shipped model is checked against the SHA-256 recorded when it was built. A model
        file is a pickle-free archive (see :mod:`redflag.model`); pass ``sha256`` to also
        require that a given file is exactly the one you expect.
        """
        if path is None:
            default, digest = _default_model_path()
            try:
                return cls(LinearModel.load(default, sha256=digest), **kwargs)
            except ModelFormatError as exc:
                raise ModelFormatError(f"the default model shipped with redflag failed its check: {exc}") from exc
        return cls(LinearModel.load(path, sha256=sha256), **kwargs)

    @property
    def labels(self) -> tuple[str, ...]:
        return self.model.labels

    # ------------------------------------------------------------------ scoring

    def analyze(self, text: str, *, allow: Sequence[str] = ()) -> tuple[Analysis, bool]:
        if not isinstance(text, str):
            raise TypeError(f"a message must be str, got {type(text).__name__}")
        truncated = len(text) > self.max_chars
        return self.analyzer.analyze(text[: self.max_chars] if truncated else text, allow=allow), truncated

    def score(
        self, text: str, *, allow: Sequence[str] = (), explain: bool = True, mask_pii: bool = False
    ) -> Assessment:
        """Assess one message.

        ``allow`` lists words that are the job's subject (e.g. LINEスタンプ); ``mask_pii`` replaces
        phone numbers, e-mail addresses and chat IDs quoted in the evidence with placeholders.
        """
        a, _ = self.score_with_analysis(text, allow=allow, explain=explain)
        return mask_assessment(a) if mask_pii else a

    def score_with_analysis(
        self, text: str, *, allow: Sequence[str] = (), explain: bool = True
    ) -> tuple[Assessment, Analysis]:
        """The assessment and the analysis it came from (normalized text, tokens, all hits)."""
        analysis, truncated = self.analyze(text, allow=allow)
        probs = self.model.combine(self.model.proba_one(analysis.features), analysis.anchored)
        return self._assess(analysis, probs, truncated, explain), analysis

    def score_many(
        self, texts: Iterable[str], *, allow: Sequence[str] = (), explain: bool = True, mask_pii: bool = False
    ) -> list[Assessment]:
        """Assess many messages in one matrix product; same results as :meth:`score`."""
        done = [self.analyze(t, allow=allow) for t in texts]
        probs = self.model.proba([a.features for a, _ in done])
        out = [self._assess(a, self.model.combine(p, a.anchored), trunc, explain) for (a, trunc), p in zip(done, probs)]
        return [mask_assessment(a) for a in out] if mask_pii else out

    def _assess(self, analysis: Analysis, probs: np.ndarray, truncated: bool, explain: bool) -> Assessment:
        labels_all = self.model.labels
        scores = {label: _round(float(p)) for label, p in zip(labels_all, probs)}
        decided = tuple(label for label, p, t in zip(labels_all, probs, self._thresholds) if p >= t)
        risk = max(scores.values()) if scores else 0.0
        evidence = self._evidence(analysis, decided) if explain and decided else ()
        advice = {label: LABEL_INFO[label].advice_ja for label in decided if label in LABEL_INFO}
        return Assessment(
            labels=decided,
            scores=scores,
            risk=risk,
            level=level_for(decided, scores),
            evidence=evidence,
            advice=advice,
            normalization=analysis.normalized.steps,
            truncated=truncated,
        )

    # ------------------------------------------------------------------ evidence

    def _evidence(self, analysis: Analysis, labels: Sequence[str]) -> tuple[Evidence, ...]:
        n = analysis.normalized
        out: list[Evidence] = []
        for label in labels:
            covered: list[tuple[int, int]] = []
            for hit in analysis.hits:
                if hit.label != label or hit.negated:
                    continue
                s, e = n.original_span(hit.start, hit.end)
                covered.append((hit.start, hit.end))
                out.append(Evidence(label, hit.rule.id, s, e, n.original[s:e], hit.rule.reason_ja, hit.rule.reason_en))
            if label == "off_platform":
                out.extend(_context_evidence(analysis, set(self.rules.context)))
                covered.extend(analysis.context.values())
            out.extend(self._model_evidence(analysis, label, covered))
        out.sort(key=lambda ev: (ev.start, ev.end, ev.label, ev.rule))
        return tuple(out)

    def _model_evidence(self, analysis: Analysis, label: str, covered: list[tuple[int, int]]) -> list[Evidence]:
        """The words the model weighed most toward ``label``, located in the message."""
        n = analysis.normalized
        found: list[Evidence] = []
        view: str | None = None
        for feature, _weight in self.model.contributions(analysis.features, label):
            if len(found) >= MODEL_EVIDENCE:
                break
            kind, _, value = feature.partition(":")
            span: tuple[int, int] | None = None
            if kind == "w" and len(value) > 1 and not value.startswith("#") and not _FUNCTION_WORD.fullmatch(value):
                span = next(((s, e) for tok, s, e in analysis.tokens if tok == value), None)
            elif kind == "b":
                first, _, second = value.partition(" ")
                if _PUNCT.search(value) or (_FUNCTION_WORD.fullmatch(first) and _FUNCTION_WORD.fullmatch(second)):
                    continue
                toks = analysis.tokens
                span = next(
                    (
                        (toks[i][1], toks[i + 1][2])
                        for i in range(len(toks) - 1)
                        if toks[i][0] == first and toks[i + 1][0] == second
                    ),
                    None,
                )
            elif kind == "c" and len(value) >= 3 and not _PUNCT.search(value) and not _FUNCTION_WORD.fullmatch(value):
                view = view if view is not None else char_view(n.text)
                start = view.find(value)
                span = (start, start + len(value)) if start >= 0 else None
            if span is None or any(s < span[1] and span[0] < e for s, e in covered):
                continue
            covered.append(span)
            s, e = n.original_span(*span)
            found.append(
                Evidence(
                    label,
                    f"model:{feature}",
                    s,
                    e,
                    n.original[s:e],
                    "統計モデルがこのラベルの根拠として重視した表現です",
                    "A phrase the statistical model weighs toward this label",
                )
            )
        return found


# What a person is told when a move outside is flagged although part of the condition is there.
_CONTEXT_REASONS = {
    "escrow_funded": (
        "仮払い済みとありますが、外部連絡申請の承認は書かれていません（外部への移行には両方が必要です）",
        "Escrow is stated as funded, but no approved outside-contact application is (both are needed)",
    ),
    "contact_approved": (
        "外部連絡申請の承認はありますが、仮払いの完了が書かれていません（外部への移行には両方が必要です）",
        "The outside-contact application is stated as approved, but funded escrow is not (both are needed)",
    ),
}
_CONTEXT_BOTH = (
    "仮払いと外部連絡申請の承認はどちらも書かれていますが、ほかの表現から外部への誘導と判断しました",
    "Both escrow and approval are stated, but other phrases still point to a move outside",
)


def _context_evidence(analysis: Analysis, names: set[str]) -> list[Evidence]:
    """For a flagged move outside: which part of the escrow + approval condition was found, and what is missing."""
    n = analysis.normalized
    out = []
    for name, (start, end) in analysis.context.items():
        ja, en = _CONTEXT_BOTH if set(analysis.context) >= names else _CONTEXT_REASONS.get(name, _CONTEXT_BOTH)
        s, e = n.original_span(start, end)
        out.append(Evidence("off_platform", f"context.{name}", s, e, n.original[s:e], ja, en))
    return out


def _round(p: float) -> float:
    return 0.0 if math.isnan(p) else round(min(1.0, max(0.0, p)), 6)


@lru_cache(maxsize=1)
def default_scorer() -> Scorer:
    """The shipped default model, loaded once per process."""
    return Scorer.load()
