"""Conversations: score messages in order, and the thread as a whole.

Scammers escalate over several messages, each of which can look harmless alone: a mention of
LINE, then "could you start before the escrow", then a fee. A :class:`Conversation` reads a thread
the way a person does, one message at a time:

* each message is scored as usual, except that platform conditions stated in earlier messages
  (escrow funded, outside-contact application approved) count for later ones, so that
  "以降はChatworkで" after "仮払いしました" + "申請が承認されました" is read in that light;
* the last ``window`` messages are also scored joined together, which catches a request split
  over several short messages ("IDは" / "abc123" / "LINEで追加して");
* a label suggested more than once (each time at least half its threshold, none reaching it)
  accumulates by noisy-OR of the calibrated per-message probabilities;
* the thread is *escalating* when two or more labels appear in different messages; that raises
  its level one step.

The thread assessment says, per label, which messages contributed, and carries their evidence.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from .labels import LABEL_INFO
from .platforms import Platform, get_platform
from .results import Assessment, Evidence, Level

if TYPE_CHECKING:
    from .scorer import Scorer

__all__ = ["DEFAULT_WINDOW", "Conversation", "ThreadAssessment", "ThreadEvidence"]

#: How many consecutive messages are also scored joined together.
DEFAULT_WINDOW = 3
# A message "suggests" a label when its probability reaches this share of the label's threshold.
_SUGGEST = 0.5
_NEXT_LEVEL: dict[Level, Level] = {"safe": "safe", "low": "medium", "medium": "high", "high": "high"}


@dataclass(frozen=True)
class ThreadEvidence:
    """Evidence from one message of a thread: ``evidence`` indexes ``messages[message]``."""

    message: int
    evidence: Evidence
    #: ``message`` (scored alone), ``window`` (scored joined with its neighbours) or ``context``.
    source: str = "message"


@dataclass(frozen=True)
class ThreadAssessment:
    """The verdict on a conversation so far (all messages up to the latest one)."""

    labels: tuple[str, ...]
    scores: dict[str, float]
    risk: float
    level: Level
    #: The assessment of each message, in order.
    messages: tuple[Assessment, ...]
    #: Per label of the thread: the indices of the messages that carried it.
    contributors: dict[str, tuple[int, ...]]
    #: ``(message index, label)`` in the order the thread's labels first appeared.
    escalation: tuple[tuple[int, str], ...]
    evidence: tuple[ThreadEvidence, ...] = ()
    advice: dict[str, str] = field(default_factory=dict)
    #: Platform conditions stated in the thread, with the message that first stated each.
    stated: dict[str, int] = field(default_factory=dict)
    platform: str = "generic"

    @property
    def flagged(self) -> bool:
        return bool(self.labels)

    @property
    def escalating(self) -> bool:
        """Two or more labels, first appearing in different messages."""
        return len({i for i, _ in self.escalation}) >= 2

    def to_dict(self, *, messages: bool = True) -> dict[str, Any]:
        d: dict[str, Any] = {
            "labels": list(self.labels),
            "scores": dict(self.scores),
            "risk": self.risk,
            "level": self.level,
            "escalating": self.escalating,
            "contributors": {k: list(v) for k, v in self.contributors.items()},
            "escalation": [list(step) for step in self.escalation],
            "evidence": [
                {"message": e.message, "source": e.source, **asdict(e.evidence)} for e in self.evidence
            ],
            "advice": dict(self.advice),
            "stated": dict(self.stated),
            "platform": self.platform,
        }
        if messages:
            d["messages"] = [a.to_dict() for a in self.messages]
        return d


class Conversation:
    """A thread scored incrementally: :meth:`add` each message in order.

    >>> from redflag import Scorer
    >>> conv = Conversation(Scorer.load())
    >>> _ = conv.add("はじめまして。ご応募ありがとうございます。")
    >>> t = conv.add("今後のやり取りはLINEでお願いします。IDはyamada123です")
    >>> "off_platform" in t.labels, t.contributors["off_platform"]
    (True, (1,))
    """

    def __init__(
        self,
        scorer: Scorer,
        *,
        platform: str | Platform = "generic",
        allow: Sequence[str] = (),
        window: int = DEFAULT_WINDOW,
        explain: bool = True,
    ) -> None:
        if window < 1:
            raise ValueError(f"window must be at least 1, got {window}")
        self.scorer = scorer
        self.platform = get_platform(platform)
        self.allow = tuple(allow)
        self.window = window
        self.explain = explain
        self._texts: list[str] = []
        self._messages: list[Assessment] = []
        self._stated: dict[str, int] = {}
        self._thresholds = dict(scorer.model.thresholds)
        labels = scorer.labels
        self._best: dict[str, float] = dict.fromkeys(labels, 0.0)
        self._flagged_in: dict[str, list[int]] = {label: [] for label in labels}
        self._suggested_in: dict[str, list[int]] = {label: [] for label in labels}
        self._not_suggested: dict[str, float] = dict.fromkeys(labels, 1.0)  # noisy-OR product
        self._window_hits: dict[str, tuple[float, tuple[int, ...], tuple[ThreadEvidence, ...]]] = {}
        self._first: dict[str, int] = {}
        self._last: ThreadAssessment | None = None

    def __len__(self) -> int:
        return len(self._messages)

    @property
    def assessment(self) -> ThreadAssessment:
        """The thread so far (an empty thread is safe)."""
        if self._last is None:
            self._last = self._build()
        return self._last

    def extend(self, texts: Iterable[str]) -> ThreadAssessment:
        for text in texts:
            self.add(text)
        return self.assessment

    def add(self, text: str) -> ThreadAssessment:
        """Score the next message of the thread; returns the thread's assessment so far."""
        scorer = self.scorer
        index = len(self._messages)
        a, analysis = scorer.score_with_analysis(
            text, allow=self.allow, explain=self.explain, platform=self.platform, stated=tuple(self._stated)
        )
        for name in self.platform.found(analysis.normalized.text, scorer.rules.is_negated):
            self._stated.setdefault(name, index)
        self._texts.append(text)
        self._messages.append(a)
        for label, p in a.scores.items():
            self._best[label] = max(self._best[label], p)
            if label in a.labels:
                self._flagged_in[label].append(index)
            elif p >= _SUGGEST * self._thresholds[label]:
                self._suggested_in[label].append(index)
                self._not_suggested[label] *= 1.0 - p
        if self.window > 1 and index >= 1:
            self._score_window(index)
        self._last = None
        result = self.assessment
        for label in result.labels:
            self._first.setdefault(label, min(result.contributors[label], default=index))
        self._last = self._build()
        return self._last

    def _score_window(self, end: int) -> None:
        start = max(0, end - self.window + 1)
        parts = self._texts[start : end + 1]
        joined = "\n".join(parts)
        offsets = []
        pos = 0
        for part in parts:
            offsets.append(pos)
            pos += len(part) + 1
        stated = tuple(name for name, i in self._stated.items() if i < start)
        w, _ = self.scorer.score_with_analysis(
            joined, allow=self.allow, explain=True, platform=self.platform, stated=stated
        )
        for label in w.labels:
            if self._flagged_in[label] and self._flagged_in[label][-1] >= start:
                continue  # a message in the window carries it alone: nothing new
            where: list[ThreadEvidence] = []
            for ev in w.evidence:
                if ev.label != label:
                    continue
                k = max(j for j, off in enumerate(offsets) if off <= ev.start)
                s = ev.start - offsets[k]
                e = min(ev.end - offsets[k], len(parts[k]))
                local = Evidence(ev.label, ev.rule, s, e, parts[k][s:e], ev.reason, ev.reason_en)
                where.append(ThreadEvidence(start + k, local, "window"))
            members = tuple(sorted({te.message for te in where})) or tuple(range(start, end + 1))
            best = self._window_hits.get(label)
            if best is None or w.scores[label] > best[0]:
                self._window_hits[label] = (w.scores[label], members, tuple(where))

    def _build(self) -> ThreadAssessment:
        labels_all = self.scorer.labels
        scores: dict[str, float] = {}
        contributors: dict[str, tuple[int, ...]] = {}
        evidence: list[ThreadEvidence] = []
        decided = []
        for label in labels_all:
            accumulated = 1.0 - self._not_suggested[label] if len(self._suggested_in[label]) >= 2 else 0.0
            window = self._window_hits.get(label, (0.0, (), ()))
            score = max(self._best[label], window[0], accumulated)
            scores[label] = round(score, 6)
            if score < self._thresholds[label]:
                continue
            decided.append(label)
            if self._flagged_in[label]:
                members = tuple(self._flagged_in[label])
                for i in members:
                    evidence.extend(
                        ThreadEvidence(i, ev) for ev in self._messages[i].evidence if ev.label == label
                    )
            elif window[0] >= accumulated:
                members = window[1]
                evidence.extend(window[2])
            else:
                members = tuple(self._suggested_in[label])
            contributors[label] = members
        from .scorer import level_for  # a cycle at import time otherwise

        level = level_for(decided, scores)
        escalation = tuple(sorted((i, label) for label, i in self._first.items() if label in decided))
        if len({i for i, _ in escalation}) >= 2:
            level = _NEXT_LEVEL[level]
        advice = {}
        for label in decided:
            if label == "off_platform" and self.platform.advice_ja:
                advice[label] = self.platform.advice_ja
            elif label in LABEL_INFO:
                advice[label] = LABEL_INFO[label].advice_ja
        evidence.sort(key=lambda te: (te.message, te.evidence.start, te.evidence.label, te.evidence.rule))
        return ThreadAssessment(
            labels=tuple(decided),
            scores=scores,
            risk=max(scores.values(), default=0.0),
            level=level,
            messages=tuple(self._messages),
            contributors=contributors,
            escalation=escalation,
            evidence=tuple(evidence),
            advice=advice,
            stated=dict(self._stated),
            platform=self.platform.name,
        )
