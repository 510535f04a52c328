"""The scorer: one analysis pass, model probabilities, rule evidence, one Assessment."""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import regex

from .features import Analysis, Analyzer, char_view
from .labels import LABEL_INFO
from .model import LinearModel, ModelFormatError, read_recorded_hash, recorded_hash_path
from .pii import mask_assessment
from .platforms import Platform, get_platform
from .results import Assessment, Evidence, Level
from .rules import load_rules
from .thread import DEFAULT_WINDOW, Conversation, ThreadAssessment

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
# Hits of these detectors mean the message carries contact details (for profiles that treat them apart).
_CONTACT_DETECTORS = frozenset({"phone_jp", "email", "line_id"})


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
        self._thresholds = [model.thresholds[label] for label in model.labels]
        self._clusters_named: dict[int, tuple[str, ...]] | None = None

    @classmethod
    def load(
        cls, path: str | Path | None = None, *, sha256: str | None = None, trust: bool = False, **kwargs: int
    ) -> Scorer:
        """Load a model file; ``None`` loads the default model shipped with redflag.

        A model file is code in the eyes of a careful reader (it decides what gets flagged), so it
        is opened only when its bytes are the ones someone vouched for:

        * the shipped model: the SHA-256 recorded when it was built, checked on every load;
        * a file by path: ``sha256`` if given; otherwise the hash recorded beside it when it was
          written (``PATH.sha256``, written by ``redflag train`` and :meth:`LinearModel.save`);
        * a file with neither: refused, unless ``trust=True`` (``--trust-model``) says you trust
          where it came from.

        Whatever the trust, the file is read as plain arrays (``numpy.load(allow_pickle=False)``):
        pickle and joblib files are never unpickled.
        """
        where, digest = _vouched(path, sha256, trust)
        with _naming_the_default(path):
            return cls(LinearModel.load(where, sha256=digest), **kwargs)

    @staticmethod
    def check(path: str | Path | None = None, *, sha256: str | None = None, trust: bool = False) -> dict[str, Any]:
        """Make every check :meth:`load` makes, without loading the model; returns its header.

        For a process that leaves the scoring to workers (which load the model themselves).
        """
        where, digest = _vouched(path, sha256, trust)
        with _naming_the_default(path):
            return LinearModel.check_file(where, sha256=digest)

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
        self,
        text: str,
        *,
        allow: Sequence[str] = (),
        explain: bool = True,
        mask_pii: bool = False,
        platform: str | Platform = "generic",
    ) -> Assessment:
        """Assess one message.

        ``allow`` lists words that are the job's subject (e.g. LINEスタンプ); ``mask_pii`` replaces
        phone numbers, e-mail addresses, chat IDs and addresses quoted in the evidence with
        placeholders; ``platform`` picks the rule on outside contact (see :mod:`redflag.platforms`).
        """
        a, _ = self.score_with_analysis(text, allow=allow, explain=explain, platform=platform)
        return mask_assessment(a) if mask_pii else a

    def score_with_analysis(
        self,
        text: str,
        *,
        allow: Sequence[str] = (),
        explain: bool = True,
        platform: str | Platform = "generic",
        stated: Collection[str] = (),
    ) -> tuple[Assessment, Analysis]:
        """The assessment and the analysis it came from (normalized text, tokens, all hits).

        ``stated`` names platform conditions (``escrow_funded``, ...) stated earlier in the same
        conversation; :meth:`score_thread` passes them on from message to message.
        """
        profile = get_platform(platform)
        analysis, truncated = self.analyze(text, allow=allow)
        raw = self.model.proba_analysis(analysis)
        raw, check = self._apply_platform(analysis, raw, profile, allow, stated)
        probs = self.model.combine(raw, analysis.anchored)
        return self._assess(analysis, probs, truncated, explain, check, profile.name), analysis

    def score_many(
        self,
        texts: Iterable[str],
        *,
        allow: Sequence[str] = (),
        explain: bool = True,
        mask_pii: bool = False,
        platform: str | Platform = "generic",
    ) -> list[Assessment]:
        """Assess many messages in one matrix product; same results as :meth:`score`."""
        profile = get_platform(platform)
        done = [self.analyze(t, allow=allow) for t in texts]
        probs = self.model.proba_analyses([a for a, _ in done])
        out = []
        for (a, trunc), p in zip(done, probs):
            p, check = self._apply_platform(a, p, profile, allow)
            out.append(self._assess(a, self.model.combine(p, a.anchored), trunc, explain, check, profile.name))
        return [mask_assessment(a) for a in out] if mask_pii else out

    def conversation(
        self,
        *,
        platform: str | Platform = "generic",
        allow: Sequence[str] = (),
        window: int = DEFAULT_WINDOW,
        explain: bool = True,
    ) -> Conversation:
        """A thread to feed message by message (:meth:`Conversation.add`), e.g. to warn before a reply."""
        return Conversation(self, platform=platform, allow=allow, window=window, explain=explain)

    def score_thread(
        self,
        messages: Iterable[str],
        *,
        platform: str | Platform = "generic",
        allow: Sequence[str] = (),
        window: int = DEFAULT_WINDOW,
        explain: bool = True,
    ) -> ThreadAssessment:
        """Score a conversation in order: each message, plus the thread as a whole.

        See :mod:`redflag.thread`: conditions stated earlier count for later messages, the last
        ``window`` messages are also read together, and escalation across labels raises the level.

        >>> t = Scorer.load().score_thread(["LINEはお使いですか？", "仮払い前ですが先に作業を始めてください"])
        >>> t.escalating, [a.labels for a in t.messages]
        (True, [('off_platform',), ('escrow_bypass',)])
        """
        conv = self.conversation(platform=platform, allow=allow, window=window, explain=explain)
        return conv.extend(messages)

    # ------------------------------------------------------------------ platform profiles

    def _apply_platform(
        self,
        analysis: Analysis,
        probs: np.ndarray,
        profile: Platform,
        allow: Sequence[str],
        stated: Collection[str] = (),
    ) -> tuple[np.ndarray, PlatformCheck | None]:
        """Apply a platform's rule on outside contact to the ``off_platform`` probability.

        ``stated`` names conditions stated earlier in the same conversation. See
        :mod:`redflag.platforms` for the two counterfactual questions asked of the model.
        """
        if "off_platform" not in self.model.labels:
            return probs, None
        n = analysis.normalized
        found = profile.found(n.text, self.rules.is_negated)
        if not found and not analysis.context and not stated:
            return probs, None  # nothing stated: the profile has nothing to add
        contact_details = any(
            not h.negated and (h.label == "contact_request" or h.rule.detector in _CONTACT_DETECTORS)
            for h in analysis.hits
        )
        earlier = frozenset(stated) - set(found)
        allowed = profile.allows({*found, *earlier}, contact_details)
        check = PlatformCheck(profile, found, contact_details, allowed, earlier)
        i = self.model.labels.index("off_platform")
        probs = probs.copy()
        if allowed:
            statements = "".join(
                profile.conditions[name].statement
                for name in self.rules.context
                if name not in analysis.context and name in profile.conditions
            )
            if statements:
                alt, _ = self.analyze(statements + n.original, allow=allow)
                probs[i] = min(probs[i], self.model.proba_analysis(alt)[i])
        elif found or analysis.context:
            spans = [n.original_span(s, e) for s, e in (*found.values(), *analysis.context.values())]
            chars = list(n.original)
            for s, e in spans:
                chars[s:e] = "\u3000" * (e - s)  # ideographic spaces keep every other offset in place
            alt, _ = self.analyze("".join(chars), allow=allow)
            probs[i] = max(probs[i], self.model.proba_analysis(alt)[i])
        return probs, check

    def _assess(
        self,
        analysis: Analysis,
        probs: np.ndarray,
        truncated: bool,
        explain: bool,
        check: PlatformCheck | None = None,
        platform_name: str = "generic",
    ) -> Assessment:
        labels_all = self.model.labels
        values = probs.tolist()  # Python floats: the same numbers, cheaper to compare and round
        if all(0.0 <= p <= 1.0 for p in values):  # always, from the model (NaN fails this test)
            scores = dict(zip(labels_all, [round(p, 6) for p in values]))
        else:
            scores = {label: _round(p) for label, p in zip(labels_all, values)}
        decided = tuple(label for label, p, t in zip(labels_all, values, self._thresholds) if p >= t)
        risk = max(scores.values()) if scores else 0.0
        evidence = self._evidence(analysis, decided, check) if explain and decided else ()
        advice = {label: LABEL_INFO[label].advice_ja for label in decided if label in LABEL_INFO}
        if check is not None and "off_platform" in advice and check.platform.advice_ja:
            advice["off_platform"] = check.platform.advice_ja
        return Assessment(
            labels=decided,
            scores=scores,
            risk=risk,
            level=level_for(decided, scores),
            evidence=evidence,
            advice=advice,
            normalization=analysis.normalized.steps,
            truncated=truncated,
            platform=check.platform.name if check is not None else platform_name,
        )

    # ------------------------------------------------------------------ evidence

    def _evidence(
        self, analysis: Analysis, labels: Sequence[str], check: PlatformCheck | None = None
    ) -> tuple[Evidence, ...]:
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
            if label == "off_platform" and check is not None:
                out.extend(_context_evidence(analysis, check))
                covered.extend(check.found.values())
            words = self._model_evidence(analysis, label, covered)
            if not words and not any(ev.label == label for ev in out):
                words = self._model_evidence(analysis, label, covered, strict=False)
            out.extend(words)
        out.sort(key=lambda ev: (ev.start, ev.end, ev.label, ev.rule))
        return tuple(out)

    def _model_evidence(
        self, analysis: Analysis, label: str, covered: list[tuple[int, int]], *, strict: bool = True
    ) -> list[Evidence]:
        """The words the model weighed most toward ``label``, located in the message.

        Words of particles and kana only (``strict``) are left out, unless nothing else would be shown.
        """
        n = analysis.normalized
        found: list[Evidence] = []
        view: str | None = None
        for feature, _weight in self.model.contributions(analysis.features, label):
            if len(found) >= MODEL_EVIDENCE:
                break
            kind, _, value = feature.partition(":")
            span: tuple[int, int] | None = None
            function = strict and _FUNCTION_WORD.fullmatch(value) is not None
            if kind == "w" and len(value) > 1 and not value.startswith("#") and not function:
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
            elif kind == "v" and self.analyzer.clusters is not None and value.isdigit():
                # A cluster: shown as the first word of the message that belongs to it.
                cluster, clusters = int(value), self.analyzer.clusters
                span = next(
                    (
                        (s, e)
                        for tok, s, e in analysis.tokens
                        if len(tok) > 1
                        and not (strict and _FUNCTION_WORD.fullmatch(tok))
                        and not _PUNCT.search(tok)
                        and clusters.cluster(tok) == cluster
                    ),
                    None,
                )
            elif kind == "c" and len(value) >= 3 and not _PUNCT.search(value) and not function:
                view = view if view is not None else char_view(n.text)
                start = view.find(value)
                span = (start, start + len(value)) if start >= 0 else None
            if span is None or any(s < span[1] and span[0] < e for s, e in covered):
                continue
            covered.append(span)
            s, e = n.original_span(*span)
            reason_ja = "統計モデルがこのラベルの根拠として重視した表現です"
            reason_en = "A phrase the statistical model weighs toward this label"
            if kind == "v":
                alike = "、".join(self._cluster_words().get(int(value), ()))
                reason_ja = f"統計モデルがこのラベルの根拠として重視した語のグループ（{alike}など、使われ方の近い語）の語です"
                reason_en = (
                    f"A word of a group the statistical model weighs toward this label "
                    f"(words used alike, such as {alike.replace('、', ', ')})"
                )
            found.append(Evidence(label, f"model:{feature}", s, e, n.original[s:e], reason_ja, reason_en))
        return found

    def _cluster_words(self) -> dict[int, tuple[str, ...]]:
        """The training words of each word cluster, most frequent first (four at most), to name it."""
        if self._clusters_named is None:
            named: dict[int, list[str]] = {}
            clusters = self.analyzer.clusters
            if clusters is not None:
                # Features are numbered from the most frequent, so the first words found are the commonest.
                for name in self.model.words:
                    if not name.startswith("w:") or len(name) < 4:
                        continue
                    c = clusters.cluster(name[2:])
                    if c is not None and len(named.setdefault(c, [])) < 4:
                        named[c].append(name[2:])
            self._clusters_named = {c: tuple(ws) for c, ws in named.items()}
        return self._clusters_named


@dataclass(frozen=True)
class PlatformCheck:
    """What a platform profile found in a message: stated conditions and whether they allow a move."""

    platform: Platform
    #: Conditions stated in this message, with their spans in the normalized text.
    found: dict[str, tuple[int, int]]
    contact_details: bool
    allowed: bool
    #: Conditions stated in earlier messages of the same conversation (not in this one).
    earlier: frozenset[str] = frozenset()

    @property
    def missing(self) -> tuple[str, ...]:
        have = {*self.found, *self.earlier}
        return tuple(c for c in self.platform.required(self.contact_details) if c not in have)


def _context_evidence(analysis: Analysis, check: PlatformCheck) -> list[Evidence]:
    """For a flagged move outside: which conditions were stated, and what the platform still needs."""
    n = analysis.normalized
    profile = check.platform
    if profile.outside_contact == "never":
        tail_ja = f"が、{profile.display}ではどの段階でもサイト外での連絡は禁止されています"
        tail_en = f", but {profile.name} forbids outside contact at every stage"
    elif check.missing:
        conds = [profile.conditions[c] for c in check.missing]
        tail_ja = "が、" + "と".join(c.missing_ja for c in conds) + "は書かれていません（外部への移行には必要です）"
        tail_en = ", but " + " and ".join(c.missing_en for c in conds) + " is not (it is needed for a move outside)"
    else:
        tail_ja = "が、ほかの表現から外部への誘導と判断しました"
        tail_en = ", but other phrases still point to a move outside"
    out: list[Evidence] = []
    required = set(profile.required(check.contact_details))
    # The profile's own conditions first, so that where two patterns match the same words
    # (外部連絡申請 and サービス外連絡申請) the one this platform asks for is the one shown.
    taken: list[tuple[int, int]] = []
    for name, (start, end) in sorted(check.found.items(), key=lambda kv: (kv[0] not in required, kv[1])):
        if any(start < e and s < end for s, e in taken):
            continue
        taken.append((start, end))
        cond = profile.conditions[name]
        s, e = n.original_span(start, end)
        out.append(
            Evidence("off_platform", f"context.{name}", s, e, n.original[s:e], cond.found_ja + tail_ja, cond.found_en + tail_en)
        )
    out.sort(key=lambda ev: ev.start)
    return out


def _round(p: float) -> float:
    return 0.0 if math.isnan(p) else round(min(1.0, max(0.0, p)), 6)


@contextmanager
def _naming_the_default(path: str | Path | None) -> Iterator[None]:
    """A failure of the shipped model (``path`` None) says so; other failures pass unchanged."""
    try:
        yield
    except ModelFormatError as exc:
        if path is None:
            raise ModelFormatError(f"the default model shipped with redflag failed its check: {exc}") from exc
        raise


def _vouched(path: str | Path | None, sha256: str | None, trust: bool) -> tuple[Path, str | None]:
    """The file to open and the SHA-256 it must have (see :meth:`Scorer.load` on trust)."""
    if path is None:
        return _default_model_path()
    if sha256 is None:
        sha256 = read_recorded_hash(path)
        if sha256 is None and not trust and Path(path).is_file():
            raise ModelFormatError(
                f"{path}: no recorded SHA-256 (expected {recorded_hash_path(path).name} beside it); "
                "pass sha256=... (--model-sha256 HEX) with the hash you expect, or trust=True "
                "(--trust-model) if you trust where this file came from"
            )
    return Path(path), sha256


@lru_cache(maxsize=1)
def default_scorer() -> Scorer:
    """The shipped default model, loaded once per process."""
    return Scorer.load()
