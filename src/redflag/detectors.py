"""Detectors for contact details that a single regex describes badly.

Each detector takes the normalized text (see :mod:`redflag.normalize`) and yields
``(start, end)`` spans in it. They are referenced by name from ``rules.toml``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import regex

__all__ = ["DETECTORS", "Span", "address_jp"]

Span = tuple[int, int]
Detector = Callable[[str], Iterator[Span]]

# Groups of digits separated by one dash, dot or space; validated by digit count below.
_PHONE = regex.compile(
    r"(?<![\d\-.,/:])(?:\+81[\s\-]?\(?0?\)?|(?<!\d)0)\d{1,4}(?:[\s\-.)]{0,2}\d{1,4}){1,2}[\s\-.]?\d{2,4}(?![\d\-]|\s?円|\s?yen|\s?%)"
)
_DIGIT = regex.compile(r"\d")


def phone_jp(text: str) -> Iterator[Span]:
    """Japanese phone numbers: 090-1234-5678, 03-1234-5678, 0120-123-456, +81 90 …"""
    if "0" not in text and "+81" not in text:  # every match starts with 0 or +81
        return
    for m in _PHONE.finditer(text):
        digits = "".join(_DIGIT.findall(m.group()))
        international = m.group().startswith("+81")
        if (11 <= len(digits) <= 12) if international else (len(digits) in (10, 11) and digits[1] != "0"):
            yield m.span()


_EMAIL = regex.compile(
    r"(?<![a-z0-9._%+\-])[a-z0-9][a-z0-9._%+\-]{0,63}@(?:[a-z0-9\-]{1,63}\.)+[a-z]{2,24}(?![a-z0-9\-])"
    r"|(?<![a-z0-9._%+\-])[a-z0-9][a-z0-9._%+\-]{0,63}@(?:gmail|yahoo|icloud|outlook|hotmail|docomo|ezweb|softbank|au|me)(?![a-z0-9.\-])"
)


def email(text: str) -> Iterator[Span]:
    """E-mail addresses, also spelled-out ones once normalization has turned アットマーク into @."""
    if "@" not in text:
        return
    for m in _EMAIL.finditer(text):
        yield m.span()


_CHAT_ID = regex.compile(
    r"(?:line\.me|lin\.ee|page\.line\.me)/[^\s<>\"'、。)）]+"
    r"|(?:line|らいん|ライン|チャットワーク|chatwork|skype|スカイプ|discord|ディスコード|telegram|テレグラム|kakao|カカオ|wechat)\s?(?:の\s?)?(?:id|ｉｄ)\s?(?:は|:|=|→|->|です|です:)?\s?@?[a-z0-9][a-z0-9._\-]{2,30}"
    r"|(?<![a-z0-9])id\s?(?::|=|→|->|は)\s?@?[a-z0-9][a-z0-9._\-]{2,30}"
    r"|(?<![a-z0-9_.@/])@[a-z_][a-z0-9_.]{3,30}(?![a-z0-9_@]|\.[a-z])"
)


def line_id(text: str) -> Iterator[Span]:
    """LINE / chat-app IDs and add-friend links: ``LINE ID: abc``, ``@handle``, lin.ee/…"""
    if "id" not in text and "ｉｄ" not in text and "@" not in text and "/" not in text:  # each alternative needs one
        return
    for m in _CHAT_ID.finditer(text):
        yield m.span()


_URL = regex.compile(r"(?:https?://|www\.)[a-z0-9\-._~%]+(?:/[^\s<>\"'、。()（）「」]*)?")
_OUTSIDE_HOST = regex.compile(
    r"(?:https?://)?(?:www\.)?(?:forms\.gle|docs\.google\.com/forms|[a-z0-9\-]+\.typeform\.com|line\.me|lin\.ee|"
    r"t\.me|telegram\.me|wa\.me|chat\.whatsapp\.com|discord\.gg|discord\.com/invite|(?:[a-z]+\.)?chatwork\.com|"
    r"join\.skype\.com|m\.me|bit\.ly|tinyurl\.com|t\.co|is\.gd|goo\.gl|ow\.ly|cutt\.ly|rebrand\.ly|buff\.ly|"
    r"shorturl\.at|x\.gd|linktr\.ee|lit\.link|qr\.paps\.jp)(?:/|$)"
)
# Bare hosts with no scheme: "lin.ee/abc", "bit.ly/xyz".
_BARE_OUTSIDE = regex.compile(
    r"(?<![a-z0-9.\-/])(?:forms\.gle|lin\.ee|t\.me|wa\.me|discord\.gg|bit\.ly|tinyurl\.com|is\.gd|cutt\.ly|x\.gd|linktr\.ee)/[a-z0-9\-._~%/?=&]+"
)


def _urls(text: str) -> Iterator[tuple[Span, bool]]:
    if "/" not in text and "www." not in text:  # a scheme or a bare host's path has "/"
        return
    taken: list[Span] = []
    for m in _URL.finditer(text):
        taken.append(m.span())
        yield m.span(), bool(_OUTSIDE_HOST.match(m.group()))
    for m in _BARE_OUTSIDE.finditer(text):
        if not any(s <= m.start() < e for s, e in taken):
            yield m.span(), True


def outside_url(text: str) -> Iterator[Span]:
    """Links to outside chats, forms, link aggregators and URL shorteners."""
    for span, outside in _urls(text):
        if outside:
            yield span


def url(text: str) -> Iterator[Span]:
    """Any other URL (a portfolio or reference link is usually harmless)."""
    for span, outside in _urls(text):
        if not outside:
            yield span


_PREFECTURES = (
    "北海道|東京都|京都府|大阪府|青森県|岩手県|宮城県|秋田県|山形県|福島県|茨城県|栃木県|群馬県|埼玉県|千葉県|"
    "神奈川県|新潟県|富山県|石川県|福井県|山梨県|長野県|岐阜県|静岡県|愛知県|三重県|滋賀県|兵庫県|奈良県|"
    "和歌山県|鳥取県|島根県|岡山県|広島県|山口県|徳島県|香川県|愛媛県|高知県|福岡県|佐賀県|長崎県|熊本県|"
    "大分県|宮崎県|鹿児島県|沖縄県"
)
_NUM = r"[0-9０-９一二三四五六七八九十〇]+"
_DASH = r"[-‐‑–—−ー－]"
# A street address: a prefecture or a municipality (…市/区/町/村/郡), a few place-name characters,
# then the block numbers (1丁目2番3号, 1-2-3) that make it a person's address rather than a place.
_ADDRESS = regex.compile(
    rf"(?:〒\s?\d{{3}}-\d{{4}}\s?)?"
    rf"(?:(?:{_PREFECTURES})[\p{{Han}}\p{{Katakana}}\p{{Hiragana}}ー]{{1,20}}?|\p{{Han}}{{1,6}}[市区郡][\p{{Han}}\p{{Katakana}}\p{{Hiragana}}ー]{{0,12}}?)"
    rf"{_NUM}(?:丁目|-)\s?{_NUM}(?:(?:番地?|-)\s?{_NUM}(?:号)?|番地?)?"
)
# A postal code alone: 〒123-4567 or 郵便番号 123-4567.
_POSTAL = regex.compile(rf"(?:〒|郵便番号\s?:?\s?)\d{{3}}{_DASH}\d{{4}}(?!\d)")


def address_jp(text: str) -> Iterator[Span]:
    """Japanese street addresses (東京都渋谷区道玄坂1丁目2-3, 〒150-0043 …) and postal codes.

    Run it on lightly normalized text (NFKC): the full normalization joins digits across dashes
    (for phone numbers), which erases the 1-2-3 that marks an address.
    """
    taken: list[Span] = []
    for pattern in (_ADDRESS, _POSTAL):
        for m in pattern.finditer(text):
            s, e = m.span()
            if not any(a < e and s < b for a, b in taken):
                taken.append((s, e))
                yield s, e


DETECTORS: dict[str, Detector] = {
    "phone_jp": phone_jp,
    "email": email,
    "line_id": line_id,
    "outside_url": outside_url,
    "url": url,
}
