"""Masking personal data in what redflag outputs: phone numbers, e-mail addresses, chat IDs, addresses.

Outputs of redflag quote other people's contact details. ``mask`` replaces every phone number,
e-mail address, LINE/chat ID or add-friend link and street address or postal code that the
detectors find (also when obfuscated: ``〇九〇ー…``, ``アットマーク``) with a placeholder, so results
can be shared further.

>>> mask("連絡は〇九〇ー一二三四ー五六七八 か abc アットマーク gmail ドット com へ")
'連絡は[電話番号] か [メールアドレス] へ'
"""

from __future__ import annotations

import dataclasses

from .detectors import address_jp, email, line_id, phone_jp
from .normalize import normalize
from .results import Assessment

__all__ = ["PLACEHOLDERS", "mask", "mask_assessment"]

PLACEHOLDERS = {"phone": "[電話番号]", "email": "[メールアドレス]", "chat_id": "[ID]", "address": "[住所]"}
_DETECTORS = (("email", email), ("phone", phone_jp), ("chat_id", line_id))
# Addresses are found on NFKC text only (see address_jp); the rest on the full normalization.
_LIGHT = ("nfkc", "strip_invisible")


def mask(text: str) -> str:
    """``text`` with the personal data the detectors find replaced by placeholders."""
    n = normalize(text)
    spans: list[tuple[int, int, str]] = []
    for kind, detect in _DETECTORS:
        for s, e in detect(n.text):
            os_, oe = n.original_span(s, e)
            if not any(a < oe and os_ < b for a, b, _ in spans):
                spans.append((os_, oe, PLACEHOLDERS[kind]))
    light = normalize(text, _LIGHT)
    for s, e in address_jp(light.text):
        os_, oe = light.original_span(s, e)
        if not any(a < oe and os_ < b for a, b, _ in spans):
            spans.append((os_, oe, PLACEHOLDERS["address"]))
    out, pos = [], 0
    for s, e, placeholder in sorted(spans):
        out += [text[pos:s], placeholder]
        pos = e
    out.append(text[pos:])
    return "".join(out)


def mask_assessment(a: Assessment) -> Assessment:
    """The same assessment with personal data in evidence texts masked (spans still index the original)."""
    return dataclasses.replace(a, evidence=tuple(dataclasses.replace(ev, text=mask(ev.text)) for ev in a.evidence))
