"""The rule layer: rules are data (``data/rules.toml``), hits carry spans and reasons.

A :class:`Rule` validates itself when it is built (known label, pattern compiles or detector
exists, weight in [0, 1]). :class:`RuleSet` runs all rules over a normalized text and returns
:class:`Hit` values; a hit followed by a refusal (``LINEでの連絡はお受けできません``) is marked
``negated`` for rules that allow it.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import regex

from .detectors import DETECTORS
from .labels import LABELS

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

__all__ = ["Hit", "Rule", "RuleError", "RuleSet", "default_rules_text", "fold_kana", "load_rules", "timeout_for"]

log = logging.getLogger(__name__)

#: Seconds one rule may spend on one text before it is skipped (and logged).
REGEX_TIMEOUT = 1.0
#: Texts up to this many characters are matched without the timer: every shipped pattern is
#: tested to run in linear time on adversarial input (tests/test_rules.py), and on a short chat
#: message arming the timer costs several times more than the match itself.
TIMEOUT_FROM = 512


def timeout_for(text: str) -> float | None:
    """The regex timeout to use on ``text``: none for short texts, REGEX_TIMEOUT for long ones."""
    return REGEX_TIMEOUT if len(text) > TIMEOUT_FROM else None


# Constructs that the standard ``re`` and ``regex`` read differently (``\s`` and ``\w`` cover
# slightly different characters, case folding differs): patterns with them use ``regex`` only.
_ENGINE_DEPENDENT = re.compile(r"\\[sSwWbB]|\(\?[a-zA-Z]*i")


class Twin:
    """A pattern compiled by ``regex`` and, where the standard ``re`` reads it the same, by ``re`` too.

    ``re`` finds the same matches several times faster on a short message (its alternations
    of literals are cheaper to try), but has no timeout; texts longer than
    :data:`TIMEOUT_FROM` go to ``regex`` with the timer, short ones to ``re`` where it could
    compile the pattern. ``tests/test_rules.py`` checks both engines agree on every pattern.
    """

    __slots__ = ("fast", "pattern", "slow")

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self.pattern = pattern
        self.slow: regex.Pattern[str] = regex.compile(pattern, flags)
        self.fast: re.Pattern[str] | None = None
        if not flags and _ENGINE_DEPENDENT.search(pattern) is None:
            # A lookbehind of varying width or \p{...} is for regex only.
            with contextlib.suppress(re.error):
                self.fast = re.compile(pattern)

    def search(self, text: str, pos: int = 0, endpos: int | None = None) -> re.Match[str] | regex.Match[str] | None:
        end = len(text) if endpos is None else endpos
        if self.fast is not None and len(text) <= TIMEOUT_FROM:
            return self.fast.search(text, pos, end)
        return self.slow.search(text, pos, end, timeout=timeout_for(text))

    def finditer(self, text: str) -> Iterator[re.Match[str] | regex.Match[str]]:
        if self.fast is not None and len(text) <= TIMEOUT_FROM:
            return self.fast.finditer(text)
        return self.slow.finditer(text, timeout=timeout_for(text))  # type: ignore[no-any-return]


# How far after a hit a refusal still refers to it; the sentence end stops it earlier.
_NEG_WINDOW = 30
_SENTENCE_END = regex.compile(r"[。!?！？\n]")


class RuleError(ValueError):
    """A rule file or rule definition is invalid."""


@dataclass(frozen=True)
class Rule:
    """One rule: where it looks (``pattern`` or ``detector``), what it means and why."""

    id: str
    label: str
    weight: float
    reason_ja: str
    reason_en: str
    pattern: str | None = None
    detector: str | None = None
    negatable: bool = True
    negate_within: bool = True
    negated_by: str | None = None
    positive: tuple[str, ...] = ()
    negative: tuple[str, ...] = ()
    _compiled: Any = field(default=None, repr=False, compare=False)
    _negated_by: Any = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        where = f"rule {self.id!r}"
        if self.label not in LABELS:
            raise RuleError(f"{where}: unknown label {self.label!r}; expected one of {list(LABELS)}")
        if not 0.0 <= self.weight <= 1.0:
            raise RuleError(f"{where}: weight {self.weight} is outside [0, 1]")
        if (self.pattern is None) == (self.detector is None):
            raise RuleError(f"{where}: give exactly one of 'pattern' or 'detector'")
        if self.detector is not None and self.detector not in DETECTORS:
            raise RuleError(f"{where}: unknown detector {self.detector!r}; known: {sorted(DETECTORS)}")
        if not self.reason_ja or not self.reason_en:
            raise RuleError(f"{where}: reason_ja and reason_en are required")
        if self.pattern is not None:
            try:
                compiled = Twin(self.pattern)
            except regex.error as exc:
                raise RuleError(f"{where}: pattern does not compile: {exc}") from exc
            object.__setattr__(self, "_compiled", compiled)
        if self.negated_by is not None:
            if not self.negatable:
                raise RuleError(f"{where}: negated_by needs negatable = true")
            try:
                object.__setattr__(self, "_negated_by", Twin(self.negated_by))
            except regex.error as exc:
                raise RuleError(f"{where}: negated_by does not compile: {exc}") from exc

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Spans of ``text`` (normalized) where this rule fires, before negation."""
        if self.detector is not None:
            return list(DETECTORS[self.detector](text))
        try:
            return [m.span() for m in self._compiled.finditer(text) if m.end() > m.start()]
        except TimeoutError:
            log.warning("rule %s timed out on a text of %d characters and was skipped", self.id, len(text))
            return []


@dataclass(frozen=True)
class Hit:
    """A rule that fired, at ``start:end`` of the normalized text."""

    rule: Rule
    start: int
    end: int
    negated: bool = False

    @property
    def label(self) -> str:
        return self.rule.label


class RuleSet:
    """All rules, run together over one normalized text."""

    def __init__(
        self,
        rules: Iterable[Rule],
        *,
        negation: str,
        anchors: Mapping[str, str] | None = None,
        context: Mapping[str, str] | None = None,
        concepts: Mapping[str, str] | None = None,
        source: str = "",
        digest: str = "",
        anchors_fold_kana: bool = False,
    ) -> None:
        self.rules: tuple[Rule, ...] = tuple(rules)
        unknown = set(anchors or {}) - set(LABELS)
        if unknown:
            raise RuleError(f"anchors for unknown label(s) {sorted(unknown)}")
        #: Anchors read text and patterns with katakana folded to hiragana (デンワ = でんわ).
        self.anchors_fold_kana = anchors_fold_kana
        try:
            self.anchors = {
                label: Twin(fold_kana(p) if anchors_fold_kana else p) for label, p in (anchors or {}).items()
            }
        except regex.error as exc:
            raise RuleError(f"an anchor pattern does not compile: {exc}") from exc
        try:
            self.context = {name: Twin(p) for name, p in (context or {}).items()}
        except regex.error as exc:
            raise RuleError(f"a context pattern does not compile: {exc}") from exc
        try:
            self.concepts = {name: Twin(p) for name, p in (concepts or {}).items()}
        except regex.error as exc:
            raise RuleError(f"a concept pattern does not compile: {exc}") from exc
        ids = [r.id for r in self.rules]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise RuleError(f"duplicate rule ids: {dupes}")
        self.by_id: dict[str, Rule] = {r.id: r for r in self.rules}
        try:
            self._negation = Twin(negation)
        except regex.error as exc:
            raise RuleError(f"the refusal pattern NEG does not compile: {exc}") from exc
        # Whether any pattern can match at all, in one search (see _Union).
        self._patterned = tuple(r for r in self.rules if r._compiled is not None)
        self._detected = tuple(r for r in self.rules if r._compiled is None)
        self._any_pattern = _Union([r._compiled for r in self._patterned], "rules", prefilter=True)
        self._any_concept = _Union(list(self.concepts.values()), "concepts", prefilter=True)
        self._concept_occurs = {
            name: _Union([p], f"concept {name}", prefilter=True) for name, p in self.concepts.items()
        }
        # Per concept: its pattern, its union, and whether the union is its words alone (then,
        # given a scan, whether it occurs is one bit, tested without calling matches).
        self._concept_plan = tuple(
            (name, self.concepts[name], u, u.words is not None and not u.twins and not u.alone)
            for name, u in self._concept_occurs.items()
        )
        # Only whether a label's vocabulary occurs is asked; a timeout counts as not found.
        self._anchored_by = {
            label: _Union([p], f"anchor {label}", on_timeout=False) for label, p in self.anchors.items()
        }
        self._scanner = _Scanner(
            [self._any_pattern, self._any_concept, *self._concept_occurs.values(), *self._anchored_by.values()],
            fold=anchors_fold_kana,
        )
        self.source = source
        self.digest = digest

    def __len__(self) -> int:
        return len(self.rules)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.rules)

    def scan(self, text: str) -> int:
        """The words of the anchors and prefilters found in ``text`` (normalized), in one pass.

        Pass the result as ``found`` to :meth:`anchored`, :meth:`find` and
        :meth:`concept_spans` on the same text, which then do not search those words again.
        """
        return self._scanner.scan(text)

    def anchored(self, text: str, *, found: int | None = None) -> frozenset[str]:
        """Labels whose vocabulary occurs in ``text`` (normalized); all labels if none is defined.

        ``found``: :meth:`scan` of this same ``text`` (the answer is then exact, not a prefilter's).
        """
        if not self.anchors:
            return frozenset(LABELS)
        if found is None:
            if self.anchors_fold_kana:
                text = fold_kana(text)
            return frozenset(label for label, any_of in self._anchored_by.items() if any_of.matches(text, found))
        # With a scan of this text, a label whose words it found is anchored without a search,
        # and the text is folded only if some other label has patterns left to search.
        out = []
        folded: str | None = None
        for label, any_of in self._anchored_by.items():
            if any_of.words is not None and found & any_of.bit:
                out.append(label)
            elif any_of.twins or any_of.alone:
                if folded is None:
                    folded = fold_kana(text) if self.anchors_fold_kana else text
                if any_of.matches(folded, found):
                    out.append(label)
        return frozenset(out)

    def context_found(self, text: str) -> dict[str, tuple[int, int]]:
        """Context statements found in ``text`` (normalized), with the span of the first of each."""
        found = {}
        for name, p in self.context.items():
            m = _search(p, text, f"context {name}")
            if m is not None and not self._negated(text, m.start(), m.end()):
                found[name] = m.span()
        return found

    def concept_spans(self, text: str, *, found: int | None = None) -> list[tuple[str, int]]:
        """``(concept, start)`` of every concept occurrence in ``text`` (normalized).

        ``found``: :meth:`scan` of ``text``, or of a text this one was made from by blanking
        out characters (what occurs here occurs there too).
        """
        out: list[tuple[str, int]] = []
        if not self._any_concept.matches(text, found):  # about half of all chat messages have none
            return out
        for name, p, occurs, words_only in self._concept_plan:
            if words_only and found is not None:
                if not found & occurs.bit:
                    continue
            elif not occurs.matches(text, found):  # a fast "is it here at all" first
                continue
            try:
                out.extend((name, m.start()) for m in p.finditer(text))
            except TimeoutError:
                log.warning("concept %s timed out on a text of %d characters and was skipped", name, len(text))
        return out

    def is_negated(self, text: str, start: int, end: int) -> bool:
        """Whether a refusal (``NEG``) follows ``text[start:end]`` within its sentence."""
        return self._negated(text, start, end)

    def _negated(self, text: str, start: int, end: int, own: Any = None) -> bool:
        stop = _SENTENCE_END.search(text, end, min(len(text), end + _NEG_WINDOW))
        window_end = stop.start() if stop else min(len(text), end + _NEG_WINDOW)
        if self._negation.search(text, start, window_end) is not None:
            return True
        return own is not None and own.search(text, start, window_end) is not None

    def find(self, text: str, *, allow: Iterable[tuple[int, int]] = (), found: int | None = None) -> list[Hit]:
        """Every hit in ``text`` (normalized), sorted by position.

        ``allow`` lists spans of the text that are the job's subject; hits inside them are
        dropped.
        """
        allowed = list(allow)
        hits: list[Hit] = []
        rules: Iterable[Rule] = self.rules
        if not self._any_pattern.matches(text, found):
            rules = self._detected
        for rule in rules:
            for s, e in rule.spans(text):
                if allowed and any(a <= s and e <= b for a, b in allowed):
                    continue
                negated = rule.negatable and self._negated(
                    text, s if rule.negate_within else e, e, rule._negated_by
                )
                hits.append(Hit(rule, s, e, negated))
        hits.sort(key=lambda h: (h.start, h.end, h.rule.id))
        return hits


class _Union:
    """Whether any of many patterns matches somewhere in a text, asked as cheaply as it can be.

    Each pattern is split into its top-level alternatives (a whole ``(?:...)`` group is opened
    too). The alternatives that are plain words are searched as one trie-shaped alternation of
    literals, which ``re`` scans fast: it skips every position whose character begins none of
    the words, and tries the words that begin with the same characters together. The other
    alternatives are joined per engine: those ``re`` reads as ``regex`` does for ``re``, the
    rest for ``regex`` (with the timer on long texts); where they cannot be joined (duplicate
    group names), they are tried one by one. The answer is the same as searching each pattern:
    an alternation matches at a position exactly when one of its alternatives does.

    Where every other alternative shows words it must begin with, those are searched first,
    and the alternatives only where one of them occurs.

    With ``prefilter``, an alternative that must begin with one of some words
    (``(?:先に|まず)[^。]{0,8}作業``) is looked for by those words alone: the answer may then be
    True where no pattern matches, never False where one does. That is all a prefilter needs
    (it only spares the work of running the patterns), and the words are much cheaper to find.
    """

    def __init__(self, twins: list[Twin], what: str, *, on_timeout: bool = True, prefilter: bool = False) -> None:
        self.what = what
        #: The answer when a search times out: True for a prefilter (then everything is run).
        self.on_timeout = on_timeout
        words: set[str] = set()
        others: list[str] = []
        #: Patterns with flags for the whole pattern ((?i) ...): searched alone, as joined to
        #: others their flags would apply to all.
        self.alone = [t for t in twins if _GLOBAL_FLAGS.search(t.pattern)]
        for t in twins:
            if t in self.alone:
                continue
            alts = _alternatives(t.pattern)
            rest = [a for a in alts if not _is_word(a)]
            if not all(_compiles(a) for a in rest):
                others.append(t.pattern)  # parts that need each other (a backreference)
                continue
            words.update(a for a in alts if _is_word(a))
            for alt in rest:
                leading = _leading_words(alt) if prefilter else None
                if leading:
                    words.update(leading)
                else:
                    others.append(alt)
        # Words every other alternative must begin with, when each shows them: where none of
        # them occurs, the other alternatives cannot match and are not searched.
        gate: set[str] = set()
        for alt in others:
            leading = _leading_words(alt)
            if not leading:
                gate = set()
                break
            gate.update(leading)
        self.gate = re.compile(_trie(gate)) if gate and not self.alone else None
        #: The plain words looked for (with the leading words a prefilter took).
        self.wordset = frozenset(words)
        #: This union's bit in a :class:`_Scanner` answer (set by the scanner).
        self.bit = 0
        self.words = re.compile(_trie(words)) if words else None
        self.twins = [Twin(p) for p in others]
        # Every other alternative for long texts (with the timer); for short ones, re's share and regex's rest.
        self.whole = _joined([t.pattern for t in self.twins], fast=False)
        self.fast = _joined([t.pattern for t in self.twins if t.fast is not None], fast=True)
        self.rest = _joined([t.pattern for t in self.twins if t.fast is None], fast=False)
        self.split = self.fast is not None and (
            self.rest is not None or all(t.fast is not None for t in self.twins)
        )

    def matches(self, text: str, found: int | None = None) -> bool:
        """Whether the patterns match in ``text``; ``found``, if given, is the :class:`_Scanner`'s
        answer for it, which tells whether the words occur."""
        if self.words is not None:
            if found is None:
                if self.words.search(text) is not None:
                    return True
            elif found & self.bit:
                return True
        try:
            if any(t.search(text) for t in self.alone):
                return True
            if not self.twins or (self.gate is not None and self.gate.search(text) is None):
                return False
            if len(text) <= TIMEOUT_FROM and self.split:
                return self.fast.search(text) is not None or (
                    self.rest is not None and self.rest.search(text) is not None
                )
            if self.whole is not None:
                return self.whole.search(text, timeout=timeout_for(text)) is not None
            return any(t.search(text) for t in self.twins)
        except TimeoutError:
            log.warning("the %s search timed out on a text of %d characters", self.what, len(text))
            return self.on_timeout


class _Scanner:
    """The plain words of many unions found in one pass over a text (an Aho-Corasick automaton).

    Each union gets a bit; :meth:`scan` returns the bits of the unions one of whose words
    occurs. With ``fold`` (the rule file's ``anchors_fold_kana``), words and text are read with
    katakana folded to hiragana: exact for the anchors, which read them so, and for the other
    unions an answer that may say "occurs" in vain, never the reverse (a word that occurs
    occurs folded too), which is all a prefilter needs.
    """

    def __init__(self, unions: list[_Union], *, fold: bool) -> None:
        import ahocorasick

        self.fold = fold
        masks: dict[str, int] = {}
        for i, union in enumerate(unions):
            union.bit = 1 << i
            for word in union.wordset:
                key = fold_kana(word) if fold else word
                masks[key] = masks.get(key, 0) | union.bit
        self.automaton: Any = None
        if masks:
            self.automaton = ahocorasick.Automaton()
            for key, mask in masks.items():
                self.automaton.add_word(key, mask)
            self.automaton.make_automaton()

    def scan(self, text: str) -> int:
        found = 0
        if self.automaton is not None:
            for _, mask in self.automaton.iter(fold_kana(text) if self.fold else text):
                found |= mask
        return found


# Inline flags for a whole pattern ((?i), (?x) ...): its alternatives cannot be taken apart.
_GLOBAL_FLAGS = re.compile(r"\(\?[a-zA-Z]+\)")
_META = frozenset("\\.^$*+?{}[]|()")


def _is_word(alternative: str) -> bool:
    return bool(alternative) and not any(c in _META for c in alternative)


def _compiles(pattern: str) -> bool:
    try:
        regex.compile(pattern)
    except regex.error:
        return False
    return True


def _skip(pattern: str, i: int) -> int:
    """The index after the escape or character class that starts at ``pattern[i]``, else i + 1."""
    if pattern[i] == "\\":
        return i + 2
    if pattern[i] != "[":
        return i + 1
    j = i + 1
    if j < len(pattern) and pattern[j] == "^":
        j += 1
    if j < len(pattern) and pattern[j] == "]":  # a ] first in a class is a character
        j += 1
    while j < len(pattern) and pattern[j] != "]":
        j += 2 if pattern[j] == "\\" else 1
    return j + 1


def _alternatives(pattern: str) -> list[str]:
    """The top-level alternatives of ``pattern``; an alternative that is one ``(?:...)`` group
    is opened and its own alternatives listed instead."""
    parts: list[str] = []
    depth = start = i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "|" and depth == 0:
            parts.append(pattern[start:i])
            start = i + 1
        i = _skip(pattern, i)
    parts.append(pattern[start:])
    out: list[str] = []
    for part in parts:
        body = _group_body(part)
        out.extend(_alternatives(body) if body is not None else [part])
    return out


def _group_body(part: str) -> str | None:
    """What is inside ``(?:...)`` when that group is the whole of ``part``, else None."""
    if not part.startswith("(?:"):
        return None
    return part[3:-1] if _group_end(part, 0) == len(part) else None


def _trie(words: Iterable[str]) -> str:
    """An alternation matching exactly the ``words``, shaped as a trie: ``か(?:り(?:ばらい)?|い)``."""
    root: dict[str, Any] = {}
    for word in words:
        node = root
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}  # a word ends here

    def emit(node: dict[str, Any]) -> str:
        alts = [re.escape(ch) + emit(child) for ch, child in sorted(node.items()) if ch]
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        return f"(?:{body})?" if "" in node else body

    # The top level stays a bare alternation of literals, which is what lets re skip positions.
    return "|".join(re.escape(ch) + emit(child) for ch, child in sorted(root.items()))


def _group_end(pattern: str, i: int) -> int | None:
    """The index after the ``)`` that closes the group opened at ``pattern[i]``."""
    depth = 0
    while i < len(pattern):
        if pattern[i] == "(":
            depth += 1
        elif pattern[i] == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        i = _skip(pattern, i)
    return None


_ASSERTIONS = ("(?<!", "(?<=", "(?=", "(?!")


def _leading_words(alternative: str) -> list[str] | None:
    """Words one of which every match of ``alternative`` begins with, when its start shows them:
    a run of plain characters, or a group taken once whose alternatives each show theirs (after
    any lookarounds, which only narrow where a match may start). None when the start is
    anything else."""
    i = 0
    while alternative.startswith(_ASSERTIONS, i):
        end = _group_end(alternative, i)
        if end is None:
            return None
        i = end
    rest = alternative[i:]
    if rest.startswith("(?:"):
        end = _group_end(rest, 0)
        if end is None or (end < len(rest) and rest[end] in "?*+{"):
            return None
        words: list[str] = []
        for alt in _alternatives(rest[3 : end - 1]):
            # Each alternative of the group is a way to begin: by a word, or by its own leading words.
            leading = [alt] if _is_word(alt) else _leading_words(alt)
            if not leading:
                return None
            words.extend(leading)
        return words
    j = 0
    while j < len(rest) and rest[j] not in _META:
        j += 1
    if j < len(rest) and rest[j] in "?*+{":  # the last character may be absent or repeated
        j -= 1
    return [rest[:j]] if j > 0 else None


def _joined(patterns: list[str], *, fast: bool) -> Any:
    """One pattern that matches wherever any of ``patterns`` does (None if they cannot be joined)."""
    if not patterns:
        return None
    # Joined bare, not each in a group: an alternation matches where one of its parts does
    # either way, and when every part starts with a character, ``re`` can skip the positions
    # where none of those characters is (it cannot see through a group to do so).
    source = "|".join(patterns)
    try:
        return re.compile(source) if fast else regex.compile(source)
    except (re.error, regex.error):
        return None


def _search(pattern: Twin, text: str, what: str) -> re.Match[str] | regex.Match[str] | None:
    try:
        return pattern.search(text)
    except TimeoutError:
        log.warning("%s timed out on a text of %d characters and was skipped", what, len(text))
        return None


# Katakana (ァ..ヶ) to the hiragana one row below; ー, ・ and the rest stay as they are.
_KATA_TO_HIRA = {k: k - 0x60 for k in range(0x30A1, 0x30F7)}


def fold_kana(text: str) -> str:
    """``text`` with katakana written as hiragana (same length): ``デンワ`` -> ``でんわ``.

    Applied to a pattern's source too: katakana are never regex syntax, so the folded pattern
    reads the folded text as the original reads the original.
    """
    return text.translate(_KATA_TO_HIRA)


_NAME = regex.compile(r"\{([A-Z_]+)\}")


def _expand(pattern: str, defs: Mapping[str, str], where: str, depth: int = 0) -> str:
    """Replace ``{NAME}`` with its definition, which may itself use other names."""
    if depth > 8:
        raise RuleError(f"{where}: definitions nest too deep (a cycle?)")

    def sub(m: regex.Match[str]) -> str:
        name = m.group(1)
        if name not in defs:
            raise RuleError(f"{where}: undefined name {{{name}}} in pattern")
        return _expand(defs[name], defs, f"{where} -> {name}", depth + 1)

    return _NAME.sub(sub, pattern)


def default_rules_text() -> str:
    """The rules file shipped with redflag, as text."""
    return resources.files("redflag").joinpath("data/rules.toml").read_text(encoding="utf-8")


def load_rules(path: str | Path | None = None, *, text: str | None = None) -> RuleSet:
    """Load rules from a TOML file, or from ``text``; neither loads the rules shipped with redflag."""
    if text is not None:
        raw = text.encode("utf-8")
        source = "<rules embedded in model>"
    elif path is None:
        raw = default_rules_text().encode("utf-8")
        source = "redflag:data/rules.toml"
    else:
        raw = Path(path).read_bytes()
        source = str(path)
    try:
        doc = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise RuleError(f"{source}: not a valid UTF-8 TOML file: {exc}") from exc
    defs: dict[str, str] = dict(doc.get("defs", {}))
    if "NEG" not in defs:
        raise RuleError(f"{source}: [defs] must define NEG, the refusal pattern used for negation")
    rules = []
    known = {f.name for f in Rule.__dataclass_fields__.values() if not f.name.startswith("_")}
    for i, item in enumerate(doc.get("rule", []), start=1):
        where = f"{source}: rule #{i} ({item.get('id', '?')})"
        extra = set(item) - known
        if extra:
            raise RuleError(f"{where}: unknown field(s) {sorted(extra)}")
        missing = {"id", "label", "weight", "reason_ja", "reason_en"} - set(item)
        if missing:
            raise RuleError(f"{where}: missing field(s) {sorted(missing)}")
        fields = dict(item)
        if "pattern" in fields:
            fields["pattern"] = _expand(fields["pattern"], defs, where)
        if "negated_by" in fields:
            fields["negated_by"] = _expand(fields["negated_by"], defs, f"{where} negated_by")
        fields["positive"] = tuple(fields.get("positive", ()))
        fields["negative"] = tuple(fields.get("negative", ()))
        fields["weight"] = float(fields["weight"])
        rules.append(Rule(**fields))
    negation = _expand(defs["NEG"], defs, f"{source}: NEG")
    anchors = {label: _expand(p, defs, f"{source}: anchors.{label}") for label, p in doc.get("anchors", {}).items()}
    context = {name: _expand(p, defs, f"{source}: context.{name}") for name, p in doc.get("context", {}).items()}
    concepts = {name: _expand(p, defs, f"{source}: concepts.{name}") for name, p in doc.get("concepts", {}).items()}
    return RuleSet(
        rules,
        negation=negation,
        anchors=anchors,
        context=context,
        concepts=concepts,
        source=source,
        digest=hashlib.sha256(raw).hexdigest(),
        anchors_fold_kana=_flag(doc, "anchors_fold_kana", source),
    )


def _flag(doc: Mapping[str, Any], key: str, source: str) -> bool:
    value = doc.get(key, False)
    if not isinstance(value, bool):
        raise RuleError(f"{source}: {key} must be true or false, got {value!r}")
    return value
