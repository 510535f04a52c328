"""MeCab tokens (fugashi + unidic-lite) with their offsets in the text they came from.

The fugashi ``Tagger`` is a C object that cannot be pickled. :class:`Tokenizer` keeps only the
arguments, builds the tagger lazily and again after unpickling, so a tokenizer (and a model
holding one) can be sent to worker processes.
"""

from __future__ import annotations

import re
import threading
from typing import Any

__all__ = ["Token", "Tokenizer", "locate", "sanitize"]

#: (surface, start, end) in the normalized text.
Token = tuple[str, int, int]

# MeCab reads NUL-terminated UTF-8: NUL would cut the text, lone surrogates cannot be encoded.
# Each is replaced by one character so that offsets stay the same.
_UNSAFE = re.compile("[\x00\ud800-\udfff]")


def sanitize(text: str) -> str:
    """Replace characters MeCab cannot take with a same-length stand-in."""
    if _UNSAFE.search(text) is None:  # nearly every text: nothing to replace
        return text
    return _UNSAFE.sub(lambda m: " " if m.group() == "\x00" else "\ufffd", text)


class Tokenizer:
    """Split text into MeCab surface tokens.

    >>> Tokenizer().tokens("LINEで連絡ください")
    ['LINE', 'で', '連絡', 'ください']
    """

    def __init__(self, args: str = "-Owakati") -> None:
        self.args = args
        self._local = threading.local()

    def _tagger(self) -> Any:
        tagger = getattr(self._local, "tagger", None)
        if tagger is None:
            import fugashi

            tagger = fugashi.Tagger(self.args)
            self._local.tagger = tagger
        return tagger

    def __getstate__(self) -> dict[str, Any]:
        return {"args": self.args}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.args = state["args"]
        self._local = threading.local()

    def __repr__(self) -> str:
        return f"Tokenizer(args={self.args!r})"

    def tokens(self, text: str) -> list[str]:
        """Surface tokens of ``text`` (the same as :meth:`surfaces`)."""
        return self.surfaces(text)

    def tokens_with_offsets(self, text: str) -> list[Token]:
        """Surface tokens with their ``(start, end)`` in ``text``.

        Texts longer than ``SEGMENT`` characters are parsed piece by piece, cut after a sentence
        end where there is one: MeCab's time on one long run of unknown characters (100,000
        letters with no space) grows with the square of its length; in pieces it stays linear.
        Shorter texts, i.e. nearly every message, are parsed whole.
        """
        return locate(text, self.surfaces(text))

    def surfaces(self, text: str) -> list[str]:
        """The surface tokens of :meth:`tokens_with_offsets`, without their offsets.

        What the model needs; :func:`locate` adds the offsets when something must be shown.
        """
        clean = sanitize(text)
        tagger = self._tagger()
        if len(clean) <= SEGMENT:
            return tagger.parse(clean).split()  # type: ignore[no-any-return]
        out: list[str] = []
        for _, piece in _segments(clean):
            out.extend(tagger.parse(piece).split())
        return out


def locate(text: str, surfaces: list[str] | tuple[str, ...]) -> list[Token]:
    """``(surface, start, end)`` of each token of ``text``, found in order."""
    clean = sanitize(text)
    out: list[Token] = []
    pos = 0
    for tok in surfaces:
        start = clean.find(tok, pos)
        if start < 0:  # MeCab changed the characters (should not happen with -Owakati)
            start = pos
        end = start + len(tok)
        out.append((tok, start, end))
        pos = end
    return out


#: Longest text MeCab parses in one piece (see Tokenizer.tokens_with_offsets).
SEGMENT = 4096
_CUT = re.compile(r"[。！？!?\n]")


def _segments(text: str) -> list[tuple[int, str]]:
    """``(offset, piece)`` covering ``text`` in order, each piece at most SEGMENT characters."""
    if len(text) <= SEGMENT:
        return [(0, text)]
    out = []
    pos = 0
    while pos < len(text):
        stop = min(len(text), pos + SEGMENT)
        if stop < len(text):
            cut = None
            for m in _CUT.finditer(text, pos + SEGMENT // 2, stop):
                cut = m.end()
            stop = cut or stop
        out.append((pos, text[pos:stop]))
        pos = stop
    return out
