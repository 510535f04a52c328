"""Normalization that undoes the obfuscations clients use, with an offset map.

Every step is named, works on a :class:`Mapped` value and returns a new one, and keeps for
each output character the span of the *original* text it came from. So a match found in
the normalized text (``line``) points back to the exact characters the user typed
(``Ｌ Ｉ Ｎ Ｅ``).

>>> n = normalize("ら い んで連絡を")
>>> n.text
'らいんで連絡を'
>>> n.original_span(0, 3)
(0, 5)
>>> n.steps
('collapse_spaced',)

Every step has two forms: one that maps offsets (on :class:`Mapped` values) and one that only
rewrites the text. :func:`normalize` runs the text-only forms, which is all that scoring a
message needs, and builds the offset map from the mapping forms the first time a span is asked
for (evidence for a flagged message). ``tests/test_normalize.py`` and
``tests/test_properties.py`` check that the two forms give the same text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import regex

__all__ = ["DEFAULT_STEPS", "STEPS", "TEXT_STEPS", "Mapped", "Normalized", "normalize", "normalize_mapped"]


@dataclass(frozen=True)
class Mapped:
    """A text and, for each of its characters, the span of the original it stands for."""

    original: str
    text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]
    steps: tuple[str, ...] = ()

    @classmethod
    def identity(cls, text: str) -> Mapped:
        n = len(text)
        return cls(text, text, tuple(range(n)), tuple(range(1, n + 1)))


@dataclass(frozen=True)
class Normalized:
    """A normalized text, the original, and the map between them (built on first use)."""

    original: str
    text: str
    #: The steps that changed the text, in order.
    steps: tuple[str, ...] = ()
    #: Every step that ran (changed the text or not): what rebuilds the offset map.
    pipeline: tuple[str, ...] = field(default=(), repr=False, compare=False)

    @cached_property
    def _map(self) -> Mapped:
        mapped = Mapped.identity(self.original)
        for name in self.pipeline:
            mapped = STEPS[name](mapped)
        if mapped.text != self.text:  # the two forms of a step disagree: a bug, never a guess
            raise RuntimeError(
                f"normalization steps {self.pipeline} gave {self.text!r} and, with offsets, {mapped.text!r}"
            )
        return mapped

    @property
    def starts(self) -> tuple[int, ...]:
        """For each character of ``text``, where its source starts in ``original``."""
        return self._map.starts

    @property
    def ends(self) -> tuple[int, ...]:
        """For each character of ``text``, where its source ends in ``original``."""
        return self._map.ends

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Map ``text[start:end]`` back to ``(start, end)`` in the original text."""
        if not 0 <= start <= end <= len(self.text):
            raise IndexError(f"span ({start}, {end}) outside normalized text of length {len(self.text)}")
        if self.text == self.original:
            return start, end
        m = self._map
        if start == end:
            pos = m.starts[start] if start < len(m.starts) else len(self.original)
            return pos, pos
        return m.starts[start], max(m.ends[start:end])


# A replacement: (start, end, new_text) in the coordinates of the text it applies to.
Edit = tuple[int, int, str]


def _apply(n: Mapped, edits: Sequence[Edit], step: str) -> Mapped:
    """Apply non-overlapping, sorted edits; every new character spans its whole source match."""
    if not edits:
        return n
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    pos = 0
    for s, e, new in edits:
        if s > pos:
            out.append(n.text[pos:s])
            starts.extend(n.starts[pos:s])
            ends.extend(n.ends[pos:s])
        if new:
            o_start = n.starts[s] if s < e else (n.starts[s] if s < len(n.starts) else len(n.original))
            o_end = max(n.ends[s:e]) if s < e else o_start
            out.append(new)
            starts.extend([o_start] * len(new))
            ends.extend([o_end] * len(new))
        pos = e
    if pos < len(n.text):
        out.append(n.text[pos:])
        starts.extend(n.starts[pos:])
        ends.extend(n.ends[pos:])
    text = "".join(out)
    if text == n.text:
        return n
    steps = n.steps if step in n.steps else (*n.steps, step)
    return Mapped(n.original, text, tuple(starts), tuple(ends), steps)


class _RegexStep:
    """A step that replaces the matches of one pattern: its mapping form (call it on a
    :class:`Mapped`) and its text-only form (:meth:`text`) come from the one definition."""

    def __init__(self, pattern: regex.Pattern[str], repl: Callable[[regex.Match[str]], str], step: str) -> None:
        self.pattern = pattern
        self.repl = repl
        self.__name__ = step

    def __call__(self, n: Mapped) -> Mapped:
        edits = [(m.start(), m.end(), self.repl(m)) for m in self.pattern.finditer(n.text)]
        return _apply(n, [e for e in edits if n.text[e[0] : e[1]] != e[2]], self.__name__)

    def text(self, text: str) -> str:
        return self.pattern.sub(self.repl, text)


Step = Callable[[Mapped], Mapped]
TextStep = Callable[[str], str]

# A base character with the marks that compose with it (half-width kana voicing marks too),
# so that NFKC sees whole clusters such as ｶﾞ -> ガ.
_CLUSTER = regex.compile(r"\X")
_HALFWIDTH_VOICING = regex.compile(r"[\uff70-\uff9f]")


def nfkc(n: Mapped) -> Mapped:
    """Unicode NFKC: full-width ASCII, half-width kana, circled digits, compatibility forms."""
    text = n.text
    if unicodedata.is_normalized("NFKC", text):
        return n
    edits: list[Edit] = []
    # \X keeps combining sequences together; half-width kana and their separate voicing
    # marks are grapheme clusters of their own, so merge them by hand.
    clusters = [(m.start(), m.end()) for m in _CLUSTER.finditer(text)]
    i = 0
    while i < len(clusters):
        s, e = clusters[i]
        while (
            i + 1 < len(clusters) and text[clusters[i + 1][0]] in "\uff9e\uff9f" and _HALFWIDTH_VOICING.match(text, s)
        ):
            i += 1
            e = clusters[i][1]
        chunk = text[s:e]
        new = unicodedata.normalize("NFKC", chunk)
        if new != chunk:
            edits.append((s, e, new))
        i += 1
    return _apply(n, edits, "nfkc")


# Latin letters drawn as symbols that NFKC leaves alone (it maps Ⓛ and 🄻, not these): negative
# circled 🅛, negative squared 🅻 and the regional indicators 🇱 that flags are made of. Each
# stands for one letter, so the text keeps its length and every offset.
_LETTER_BLOCKS = ((0x1F150, 0x1F169), (0x1F170, 0x1F189), (0x1F1E6, 0x1F1FF))
_SYMBOL_LETTERS = regex.compile("[" + "".join(f"{chr(a)}-{chr(b)}" for a, b in _LETTER_BLOCKS) + "]+")
_LETTER_TABLE = {code: chr(ord("A") + code - a) for a, b in _LETTER_BLOCKS for code in range(a, b + 1)}
letters = _RegexStep(_SYMBOL_LETTERS, lambda m: m.group().translate(_LETTER_TABLE), "letters")


def lower(n: Mapped) -> Mapped:
    """Lower-case Latin letters (LINE, Line and line are one word)."""
    if n.text.islower() or not any(c.isupper() for c in n.text):
        return n
    edits = [(i, i + 1, c.lower()) for i, c in enumerate(n.text) if c.isupper()]
    return _apply(n, edits, "lower")


# Zero-width and other invisible format characters that split a word without showing.
_INVISIBLE = regex.compile(r"[\p{Cf}\u034f\u115f\u1160\u3164\uffa0\ufe00-\ufe0f]+")
strip_invisible = _RegexStep(_INVISIBLE, lambda m: "", "strip_invisible")

# Every dash, wave and long-vowel mark that stands between two digits is a phone separator.
_DASHES = "\\-\u2010-\u2015\u2212\u30fc\u2500\u2501\uff0d\uff70~\u301c\uff5e\u223c"
# "の" joins digit groups when numbers are read aloud (090の1234の5678).
_DIGIT_DASH = regex.compile(rf"(?<=\d)\s*[{_DASHES}]\s*(?=\d)|(?<=\d\d)の(?=\d\d)")
dash = _RegexStep(_DIGIT_DASH, lambda m: "-", "dash")

# Numerals written as kanji or katakana words, in runs long enough to be a number to dial.
_KANJI_DIGITS = {
    "〇": "0",
    "零": "0",
    "一": "1",
    "二": "2",
    "三": "3",
    "四": "4",
    "五": "5",
    "六": "6",
    "七": "7",
    "八": "8",
    "九": "9",
    "壱": "1",
    "弐": "2",
    "参": "3",
}
_KANA_DIGITS = {
    "ゼロ": "0",
    "レイ": "0",
    "マル": "0",
    "イチ": "1",
    "ニー": "2",
    "ニ": "2",
    "サン": "3",
    "ヨン": "4",
    "ゴー": "5",
    "ゴ": "5",
    "ロク": "6",
    "ナナ": "7",
    "ハチ": "8",
    "キュウ": "9",
    "キュー": "9",
    "ヨ": "4",
    "シ": "4",
    "ク": "9",
}
_KANJI_RUN = regex.compile(r"[〇零一二三四五六七八九壱弐参](?:[\s\-の・]?[〇零一二三四五六七八九壱弐参]){2,}")
_KANA_WORD = "|".join(sorted(_KANA_DIGITS, key=len, reverse=True))
_KANA_RUN = regex.compile(rf"(?:{_KANA_WORD})(?:[\s\-・の]?(?:{_KANA_WORD})){{2,}}")
_KANA_SPLIT = regex.compile(rf"{_KANA_WORD}")
# At least one zero or a leading 0/7/8/9 makes a kana run look like a phone number rather
# than a word such as サンゴ or ニシキ; words of only short syllables are left alone.
_KANA_PHONEY = regex.compile(r"ゼロ|レイ|マル")


def _kanji_digits(m: regex.Match[str]) -> str:
    return "".join(_KANJI_DIGITS.get(c, "-" if c in "-の・" else "") for c in m.group())


def _kana_digits(m: regex.Match[str]) -> str:
    if not _KANA_PHONEY.search(m.group()):
        return m.group()
    return "".join(_KANA_DIGITS[w.group()] for w in _KANA_SPLIT.finditer(m.group()))


_kanji_step = _RegexStep(_KANJI_RUN, _kanji_digits, "numerals")
_kana_step = _RegexStep(_KANA_RUN, _kana_digits, "numerals")


def numerals(n: Mapped) -> Mapped:
    """Kanji (〇九〇) and katakana (ゼロキュウゼロ) numerals in phone-like runs become digits."""
    return _kana_step(_kanji_step(n))


# Letters, digits or kana written one by one with separators between them: L I N E, ら い ん,
# l.i.n.e, L💚I💚N💚E. Four or more singles, or three when the separators are wider than a space.
_SINGLE = r"[\p{Latin}\p{Hiragana}\p{Katakana}\p{Han}\d\u30fc]"
_SEP = r"(?:[\s._*/|・･,、\u2022\-~\u301c]|\p{Extended_Pictographic}|\p{So})+"
# Inner singles must stand alone; the last may run on into a word (ら い んで).
# Japanese has no spaces, so the first single may follow a word (はL I N E); a Latin letter or
# digit may not, or "pdf a b c" would swallow the f.
_SPACED = regex.compile(
    rf"(?:(?<![\p{{Latin}}\d])[\p{{Latin}}\d]|[\p{{Hiragana}}\p{{Katakana}}\p{{Han}}\u30fc])(?:{_SEP}{_SINGLE}(?!{_SINGLE}))+{_SEP}{_SINGLE}"
)


def _collapse(m: regex.Match[str]) -> str:
    chars = regex.findall(_SINGLE, m.group())
    seps = regex.split(_SINGLE, m.group())[1:-1]
    # Three plain characters split by single spaces are often real words ("a b c" lists);
    # collapse them only when they are letters or kana with no digit-only run.
    if len(chars) == 3 and all(s == " " for s in seps) and all(c.isdigit() for c in chars):
        return m.group()
    return "".join(chars)


collapse_spaced = _RegexStep(_SPACED, _collapse, "collapse_spaced")

# Words clients split once or twice rather than letter by letter (LI✨NE, チャッ・トワーク,
# Dis cord, 電★話): the channels and the words of contact, payment and fees that the rules and
# the model read. Splitting a whole word letter by letter is collapse_spaced's case.
_WATCHED = (
    "line", "ライン", "らいん", "chatwork", "チャットワーク", "チャトワ", "slack", "スラック",
    "discord", "ディスコード", "telegram", "テレグラム", "skype", "スカイプ", "whatsapp",
    "kakao", "カカオ", "instagram", "インスタ", "zoom", "ズーム", "gmail", "メール", "メアド",
    "paypay", "paypal", "電話", "番号", "連絡先", "直接", "振込", "振り込み", "口座", "仮払い",
    "手数料", "登録料", "教材",
)  # fmt: skip
# A gap is one to three fillers on one line: spaces, dots, slashes, dashes, waves, emoji and
# other symbols. Commas and ideographic full stops are left out, so "…たら、いん…" stays apart.
_GAP = r"(?:[^\S\n]|[._*/|・･\u2022\-~\u301c]|\p{Extended_Pictographic}|\p{So}|\p{Sm}){1,3}"
# Inside a Latin word only spaces, middle dots, emoji and pictographic symbols: dots, slashes,
# dashes and the like belong to URLs, addresses and IDs (lin.ee, g-mail.example).
_LATIN_GAP = r"(?:[^\S\n]|[・･\u2022]|\p{Extended_Pictographic}|\p{So}){1,3}"


def _split_word(word: str) -> str:
    """A pattern for ``word`` with at least one gap between its characters."""
    chars = [regex.escape(c) for c in word]
    gap, head = (_LATIN_GAP, r"(?<![\p{Latin}\d./@_\-])") if word.isascii() else (_GAP, "")
    ways = ["".join(chars[:i]) + gap + f"(?:{gap})?".join(chars[i:]) for i in range(1, len(chars))]
    return head + "(?:" + "|".join(ways) + ")"


_SPLIT_WORD = regex.compile("|".join(_split_word(w) for w in sorted(_WATCHED, key=len, reverse=True)))
_GAP_CHARS = regex.compile(_GAP)
rejoin = _RegexStep(_SPLIT_WORD, lambda m: _GAP_CHARS.sub("", m.group()), "rejoin")
# What a split word needs somewhere: a gap between two characters of the watched words. One
# character class on each side is far cheaper than the pattern of every way to split every word.
_WATCHED_CHAR = "[" + "".join(sorted({regex.escape(c) for w in _WATCHED for c in w})) + "]"
_REJOIN_NEEDS = regex.compile(f"{_WATCHED_CHAR}{_GAP}{_WATCHED_CHAR}")


def _rejoin_text(text: str) -> str:
    return rejoin.text(text) if _REJOIN_NEEDS.search(text) is not None else text

# Spelled-out e-mail punctuation, only between pieces that look like an address.
_AT = regex.compile(
    r"(?<=[a-z0-9._\-]\s?)(?:\s*(?:アットマーク|あっとまーく|アット|あっと|\(at\)|\[at\]|<at>|\{at\}|＠|\bat\b)\s*)(?=[a-z0-9])"
)
_DOT = regex.compile(r"(?<=[a-z0-9]\s?)(?:\s*(?:ドット|どっと|\(dot\)|\[dot\]|<dot>|\{dot\}|。|\bdot\b)\s*)(?=[a-z])")
_at_step = _RegexStep(_AT, lambda m: "@", "at_dot")
_dot_step = _RegexStep(_DOT, lambda m: ".", "at_dot")


def at_dot(n: Mapped) -> Mapped:
    """アットマーク, (at), ドット, (dot) between address-like pieces become @ and ."""
    return _dot_step(_at_step(n))


_SPACES = regex.compile(r"[^\S\n]{2,}|[\t\u3000]")
squeeze_spaces = _RegexStep(_SPACES, lambda m: " ", "squeeze_spaces")

#: The steps in the order they run. Order matters: NFKC first so that full-width forms are
#: plain ASCII for the later patterns; numerals before dashes so 〇九〇ー becomes 090-.
STEPS: dict[str, Step] = {
    "nfkc": nfkc,
    "letters": letters,
    "strip_invisible": strip_invisible,
    "lower": lower,
    "numerals": numerals,
    "collapse_spaced": collapse_spaced,
    "rejoin": rejoin,
    "dash": dash,
    "at_dot": at_dot,
    "squeeze_spaces": squeeze_spaces,
}
DEFAULT_STEPS: tuple[str, ...] = tuple(STEPS)

# ---------------------------------------------------------------- text-only forms of the steps

# Characters around which NFKC of the whole text may differ from NFKC cluster by cluster (how
# the mapping step works): combining marks, half-width voicing marks, conjoining Hangul jamo.
_COMPOSING = regex.compile(r"[\p{M}\uff9e\uff9f\u1100-\u11ff\ua960-\ua97f\ud7b0-\ud7ff]")


def _nfkc_text(text: str) -> str:
    if unicodedata.is_normalized("NFKC", text):
        return text
    if _COMPOSING.search(text) is None:
        return unicodedata.normalize("NFKC", text)
    return nfkc(Mapped.identity(text)).text


def _lower_text(text: str) -> str:
    lowered = text.lower()
    if text.isascii() or lowered == text:  # nothing upper-case in it (the usual Japanese message)
        return lowered
    # Character by character, as the mapping step does (str.lower of the whole text would
    # treat a final sigma by its context).
    return "".join(c.lower() if c.isupper() else c for c in text)


# Necessary conditions, cheap to test, for the two steps that cost most on ordinary chat:
# collapse_spaced needs a single character between two separators somewhere; at_dot needs an
# ASCII letter or digit (its patterns look for one on both sides of the word they replace).
_SPACED_NEEDS = regex.compile(rf"{_SEP}{_SINGLE}{_SEP}")
_AT_DOT_NEEDS = re.compile("[a-z0-9]")


def _collapse_spaced_text(text: str) -> str:
    return collapse_spaced.text(text) if _SPACED_NEEDS.search(text) is not None else text


def _at_dot_text(text: str) -> str:
    return _dot_step.text(_at_step.text(text)) if _AT_DOT_NEEDS.search(text) is not None else text


TEXT_STEPS: dict[str, TextStep] = {
    "nfkc": _nfkc_text,
    "letters": letters.text,
    "strip_invisible": strip_invisible.text,
    "lower": _lower_text,
    "numerals": lambda text: _kana_step.text(_kanji_step.text(text)),
    "collapse_spaced": _collapse_spaced_text,
    "rejoin": _rejoin_text,
    "dash": dash.text,
    "at_dot": _at_dot_text,
    "squeeze_spaces": squeeze_spaces.text,
}


# Whether any step after nfkc and lower could change a text, in one search: the patterns of
# letters, strip_invisible, numerals and squeeze_spaces, the cheap tests of collapse_spaced,
# rejoin and at_dot, and a digit for dash. Most chat messages have none of them, and then those
# eight steps are skipped, each of which would have found nothing.
_UNQUIET = regex.compile(
    "|".join(
        p.pattern
        for p in (
            _SYMBOL_LETTERS,
            _INVISIBLE,
            _KANJI_RUN,
            _KANA_RUN,
            _SPACED_NEEDS,
            _REJOIN_NEEDS,
            _SPACES,
            regex.compile(r"[a-zA-Z\d]"),
        )
    )
)


# One message at a time, also in a batch: each step's cheap test (already NFKC, nothing upper-case,
# no single character between separators) skips it for most messages. Run once over a batch joined
# with NUL, the steps gave the same texts but took 37 µs a message instead of 11 (20,000 chat
# messages): in a batch some message always needs each step, so every step reads everything.
def normalize(text: str, steps: Sequence[str] = DEFAULT_STEPS) -> Normalized:
    """Normalize ``text``; the map back to it is built when first needed.

    ``steps`` names the steps to run (see :data:`STEPS`); ``Normalized.steps`` lists those that
    actually changed the text, so a reader can see what was undone.
    """
    if not isinstance(text, str):
        raise TypeError(f"normalize() expects str, got {type(text).__name__}")
    unknown = [s for s in steps if s not in STEPS]
    if unknown:
        raise ValueError(f"unknown normalization step(s) {unknown}; known: {list(STEPS)}")
    if steps is DEFAULT_STEPS or tuple(steps) == DEFAULT_STEPS:
        quiet = _quiet(text)
        if quiet is not None:
            return quiet
    out = text
    changed: list[str] = []
    for name in steps:
        new = TEXT_STEPS[name](out)
        if new != out:
            out = new
            if name not in changed:
                changed.append(name)
    return Normalized(text, out, tuple(changed), tuple(steps))


def _quiet(text: str) -> Normalized | None:
    """:func:`normalize` with the default steps, for a text that only nfkc and lower can change;
    None for any other text."""
    folded = _nfkc_text(text)
    if _UNQUIET.search(folded) is not None:
        return None
    # letters and strip_invisible found nothing in it: lower comes next, then the rest. A text
    # lower changes (an upper-case letter outside ASCII) is searched again for the later steps.
    lowered = _lower_text(folded)
    if lowered != folded and _UNQUIET.search(lowered) is not None:
        return None
    changed = (("nfkc",) if folded != text else ()) + (("lower",) if lowered != folded else ())
    return Normalized(text, lowered, changed, DEFAULT_STEPS)


def normalize_mapped(text: str, steps: Sequence[str] = DEFAULT_STEPS) -> Mapped:
    """Normalize ``text`` with the mapping form of every step (the reference for :func:`normalize`)."""
    n = Mapped.identity(text)
    for name in steps:
        n = STEPS[name](n)
    return n
