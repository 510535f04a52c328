"""Result values: frozen dataclasses that serialize with ``dataclasses.asdict``."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

__all__ = ["Assessment", "Evidence", "Level"]

Level = Literal["safe", "low", "medium", "high"]


@dataclass(frozen=True)
class Evidence:
    """Why a label was given: which words (``text == original[start:end]``), which rule, why.

    ``rule`` is a rule id from ``rules.toml``, or ``model:<feature>`` for a word the statistical
    model weighed toward the label.
    """

    label: str
    rule: str
    start: int
    end: int
    text: str
    reason: str
    reason_en: str = ""


@dataclass(frozen=True)
class Assessment:
    """The verdict on one message."""

    labels: tuple[str, ...]
    scores: dict[str, float]
    risk: float
    level: Level
    evidence: tuple[Evidence, ...] = ()
    advice: dict[str, str] = field(default_factory=dict)
    normalization: tuple[str, ...] = ()
    truncated: bool = False
    #: The platform profile whose rule on outside contact was applied (see redflag.platforms).
    platform: str = "generic"

    @property
    def flagged(self) -> bool:
        return bool(self.labels)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["labels"] = list(self.labels)
        d["evidence"] = [asdict(e) for e in self.evidence]
        d["normalization"] = list(self.normalization)
        return d
