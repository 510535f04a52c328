"""One pass over a message: normalize, tokenize, run the rules, and list its features.

The model and the rule layer share this pass, so a message is normalized and tokenized once.
Feature names carry a namespace prefix:

- ``w:`` MeCab surface token (numbers folded to their length: ``w:#4``)
- ``b:`` two adjacent tokens
- ``c:`` character n-grams of the normalized text (robust to spelling and obfuscation)
- ``r:`` a rule that fired; ``n:`` a rule that fired but was negated (a refusal)
- ``v:`` the cluster of a word (:mod:`redflag.clusters`): words used alike share one
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from itertools import pairwise

import regex

from .clusters import WordClusters, default_word_clusters
from .normalize import DEFAULT_STEPS, Normalized, normalize
from .rules import Hit, RuleSet
from .tokenize import Token, Tokenizer, locate

__all__ = ["Analysis", "Analyzer", "FeatureConfig", "char_view", "feature_texts", "fold_numbers", "token_features"]

# Character-for-character substitutions, so n-gram positions are positions in the text.
_DIGIT = regex.compile(r"\d")
_SPACE = regex.compile(r"\s")


@dataclass(frozen=True)
class FeatureConfig:
    """Which features to extract; stored with the model so scoring extracts what training did."""

    char_ngrams: tuple[int, int] = (2, 3)
    word_bigrams: bool = True
    rule_features: bool = True
    #: Words in a sentence whose rule hit is negated (a refusal: 直接契約はお受けできません)
    #: become separate features (``xw:``, ``xb:``, ``xc:``), so that the refusal does not
    #: teach or trigger the request's words.
    negation_scope: bool = True
    #: Context statements of the rule file ([context]: escrow funded, contact approved) as
    #: ``k:`` features, and ``k:all`` when every one of them is present.
    context_features: bool = True
    #: Pairs of concepts ([concepts] in the rule file: a channel, a request, a question, money,
    #: "before", ...) that occur in the same sentence, as ``p:a&b`` (``xp:`` in a refused
    #: sentence): "LINE + request" in one sentence is a proposal, "LINE + past tense" a story.
    concept_pairs: bool = True
    #: The cluster of each word (:mod:`redflag.clusters`) as a ``v:`` feature, so that a word
    #: the corpus never had counts as the words used like it.
    word_clusters: bool = True
    normalize_steps: tuple[str, ...] = DEFAULT_STEPS
    tokenizer_args: str = "-Owakati"


@dataclass(frozen=True)
class Analysis:
    """Everything the scorer needs to know about one message."""

    normalized: Normalized
    #: MeCab surface tokens of the normalized text (see :attr:`tokens` for their offsets).
    words: tuple[str, ...]
    hits: tuple[Hit, ...]
    anchored: frozenset[str] = frozenset()
    #: Context statements found (name -> span in the normalized text), e.g. escrow_funded.
    context: dict[str, tuple[int, int]] = field(default_factory=dict)
    config: FeatureConfig = field(default_factory=FeatureConfig)
    #: The features of rules, concept pairs and context statements (``r:``, ``n:``, ``p:``, ``k:``...).
    extra: tuple[str, ...] = ()
    #: All the features, for a message whose words and characters are not features as they
    #: stand (an allow-list blanked some, or a refusal turned some into ``x`` features); None
    #: for every other message, whose features follow from :attr:`words` and the text alone.
    given: tuple[str, ...] | None = None

    @cached_property
    def tokens(self) -> tuple[Token, ...]:
        """``(surface, start, end)`` in the normalized text; found on first use (evidence needs
        them, scoring does not)."""
        return tuple(locate(self.normalized.text, self.words))

    @cached_property
    def features(self) -> tuple[str, ...]:
        """The message's features by name, in the order of the text (made on first use).

        Scoring a batch does not need them: :mod:`redflag.encode` finds the model's feature
        indices from :attr:`words` and the text directly. Training, evidence and explanations do.
        """
        if self.given is not None:
            return self.given
        return (*token_features(self.normalized.text, self.words, self.config), *self.extra)


class Analyzer:
    """Turn raw messages into :class:`Analysis` values (picklable; the tagger is rebuilt per process)."""

    def __init__(self, rules: RuleSet, config: FeatureConfig | None = None) -> None:
        self.rules = rules
        self.config = config or FeatureConfig()
        self.tokenizer = Tokenizer(self.config.tokenizer_args)
        self.clusters: WordClusters | None = default_word_clusters() if self.config.word_clusters else None

    def analyze(self, text: str, *, allow: Sequence[str] = ()) -> Analysis:
        cfg = self.config
        n = normalize(text, cfg.normalize_steps)
        words = tuple(self.tokenizer.surfaces(n.text))
        allowed = _allowed_spans(n.text, allow)
        found = self.rules.scan(n.text)
        hits = tuple(self.rules.find(n.text, allow=allowed, found=found))
        # Words that are the job's subject must not count: blank them before n-grams.
        text = _blank(n.text, allowed) if allowed else n.text
        scopes = _negated_sentences(text, hits) if cfg.negation_scope else []
        extra: list[str] = []
        if cfg.rule_features:
            extra.extend(("n:" if h.negated else "r:") + h.rule.id for h in hits)
        if cfg.concept_pairs and self.rules.concepts:
            # found is the scan of the text before blanking: a superset, as concept_spans allows.
            extra.extend(_concept_pairs(text, self.rules.concept_spans(text, found=found), scopes))
        if allowed:
            anchored = self.rules.anchored(text, found=self.rules.scan(text))
        else:
            anchored = self.rules.anchored(n.text, found=found)
        context = self.rules.context_found(n.text) if cfg.context_features else {}
        if context:
            extra.extend("k:" + name for name in context)
            if len(context) == len(self.rules.context):
                extra.append("k:all")
        if self.clusters is not None:
            kept = [t[0] for t in _outside(n.text, words, allowed)] if allowed else words
            extra.extend(self.clusters.features(kept))
        given = None
        if allowed or scopes:
            given = (*self._token_features(text, n.text, words, allowed, scopes), *extra)
        return Analysis(n, words, hits, anchored, context, cfg, tuple(extra), given)

    def _token_features(
        self,
        text: str,
        unblanked: str,
        surfaces: Sequence[str],
        allowed: Sequence[tuple[int, int]],
        scopes: Sequence[tuple[int, int]],
    ) -> list[str]:
        """Word, bigram and character features of a message with an allow-list or a refusal.

        ``text`` is the normalized text with the allow-listed words blanked, ``unblanked`` the
        text the ``surfaces`` were found in.
        """
        cfg = self.config
        if allowed:
            tokens: Sequence[Token] = _outside(unblanked, surfaces, allowed)
            surfaces = [t[0] for t in tokens]
        else:
            tokens = locate(text, surfaces)
        if not scopes:
            return token_features(text, surfaces, cfg)
        words = fold_numbers(surfaces)
        flags = _inside(len(text), scopes)
        inside = [bool(flags[t[1]]) if t[1] < len(flags) else False for t in tokens]
        feats = [("xw:" if x else "w:") + w for w, x in zip(words, inside)]
        if cfg.word_bigrams:
            feats.extend(f"{'xb' if x1 or x2 else 'b'}:{a} {b}" for (a, x1), (b, x2) in pairwise(zip(words, inside)))
        lo, hi = cfg.char_ngrams
        if hi:
            flat = char_view(text)
            flags = _inside(len(flat), scopes)
            for k in range(lo, hi + 1):
                feats.extend(("xc:" if flags[i] else "c:") + flat[i : i + k] for i in range(len(flat) - k + 1))
        return feats


def fold_numbers(surfaces: Sequence[str]) -> list[str]:
    """Tokens as the model sees them: a number becomes its length (``#4``)."""
    return ["#" + str(len(t)) if t.isdigit() else t for t in surfaces]


def token_features(text: str, surfaces: Sequence[str], config: FeatureConfig) -> list[str]:
    """``w:`` words, ``b:`` bigrams and ``c:`` character n-grams of a normalized text."""
    words, bigrams, grams = feature_texts(text, surfaces, config)
    return ["w:" + w for w in words] + ["b:" + b for b in bigrams] + ["c:" + g for g in grams]


def feature_texts(
    text: str, surfaces: Sequence[str], config: FeatureConfig
) -> tuple[list[str], list[str], list[str]]:
    """The words, bigrams and character n-grams of :func:`token_features`, without their prefixes."""
    words = fold_numbers(surfaces)
    bigrams = [f"{a} {b}" for a, b in pairwise(words)] if config.word_bigrams else []
    grams: list[str] = []
    lo, hi = config.char_ngrams
    if hi:
        flat = char_view(text)
        for k in range(lo, hi + 1):
            grams += [flat[i : i + k] for i in range(len(flat) - k + 1)]
    return words, bigrams, grams


_SENTENCE_END = regex.compile(r"[。!?！？\n]")


def _negated_sentences(text: str, hits: Sequence[Hit]) -> list[tuple[int, int]]:
    """The sentences that hold a negated hit, in order, each once (linear in the text)."""
    if not any(h.negated for h in hits):
        return []
    ends = [m.end() for m in _SENTENCE_END.finditer(text)]
    out: dict[tuple[int, int], None] = {}
    for h in hits:
        if not h.negated:
            continue
        # The sentence starts after the last end at or before the hit, and runs to the next end after it.
        k = bisect.bisect_right(ends, h.start)
        start = ends[k - 1] if k else 0
        # ... and runs to the end of the first sentence mark at or after the hit's end.
        j = bisect.bisect_right(ends, h.end)
        out[(start, ends[j] if j < len(ends) else len(text))] = None
    return sorted(out)


def _concept_pairs(
    text: str, spans: Sequence[tuple[str, int]], scopes: Sequence[tuple[int, int]]
) -> list[str]:
    """``p:a&b`` for every two concepts found in one sentence (``xp:`` inside a refused sentence)."""
    if len(spans) < 2:
        return []
    ends = [m.end() for m in _SENTENCE_END.finditer(text)]
    by_sentence: dict[int, set[str]] = {}
    for name, start in spans:
        by_sentence.setdefault(bisect.bisect_right(ends, start), set()).add(name)
    out = []
    refused = _inside(len(text), scopes) if scopes else b""
    for k, names in sorted(by_sentence.items()):
        if len(names) < 2:
            continue
        start = ends[k - 1] if k else 0
        prefix = "xp:" if start < len(refused) and refused[start] else "p:"
        ordered = sorted(names)
        out.extend(f"{prefix}{a}&{b}" for i, a in enumerate(ordered) for b in ordered[i + 1 :])
    return out


def _inside(n: int, scopes: Sequence[tuple[int, int]]) -> bytearray:
    """A flag per position of a text of length ``n``: 1 inside some scope."""
    flags = bytearray(n)
    for s, e in scopes:
        flags[s:e] = b"\x01" * (min(e, n) - s) if s < n else b""
    return flags


def _outside(text: str, surfaces: Sequence[str], spans: Sequence[tuple[int, int]]) -> list[Token]:
    """The tokens of ``text`` that lie inside none of ``spans`` (the allow-listed words)."""
    return [t for t in locate(text, surfaces) if not any(s <= t[1] and t[2] <= e for s, e in spans)]


def _blank(text: str, spans: Sequence[tuple[int, int]]) -> str:
    chars = list(text)
    for s, e in spans:
        chars[s:e] = [" "] * (e - s)
    return "".join(chars)


def char_view(text: str) -> str:
    """The text character n-grams are taken from: digits as 0, any space as one space."""
    return _DIGIT.sub("0", _SPACE.sub(" ", text))


def _allowed_spans(text: str, allow: Sequence[str]) -> list[tuple[int, int]]:
    """Spans of ``text`` covered by the allow-listed words (normalized the same way)."""
    spans: list[tuple[int, int]] = []
    for word in allow:
        w = normalize(word).text.strip()
        if not w:
            continue
        start = text.find(w)
        while start >= 0:
            spans.append((start, start + len(w)))
            start = text.find(w, start + 1)
    return spans
