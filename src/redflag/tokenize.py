"""MeCab tokens (fugashi + unidic-lite) with their offsets in the text they came from.

The fugashi ``Tagger`` is a C object that cannot be pickled. :class:`Tokenizer` keeps only the
arguments, builds the tagger lazily and again after unpickling, so a tokenizer (and a model
holding one) can be sent to worker processes.
"""

from __future__ import annotations

import threading
from typing import Any

import regex

__all__ = ["Token", "Tokenizer", "sanitize"]

#: (surface, start, end) in the normalized text.
Token = tuple[str, int, int]

# MeCab reads NUL-terminated UTF-8: NUL would cut the text, lone surrogates cannot be encoded.
# Each is replaced by one character so that offsets stay the same.
_UNSAFE = regex.compile(r"[\x00\ud800-\udfff]")


def sanitize(text: str) -> str:
    """Replace characters MeCab cannot take with a same-length stand-in."""
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
        """Surface tokens of ``text``."""
        return self._tagger().parse(sanitize(text)).split()  # type: ignore[no-any-return]

    def tokens_with_offsets(self, text: str) -> list[Token]:
        """Surface tokens with their ``(start, end)`` in ``text``."""
        clean = sanitize(text)
        out: list[Token] = []
        pos = 0
        for tok in self._tagger().parse(clean).split():
            start = clean.find(tok, pos)
            if start < 0:  # MeCab changed the characters (should not happen with -Owakati)
                start = pos
            end = start + len(tok)
            out.append((tok, start, end))
            pos = end
        return out
