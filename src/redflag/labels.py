"""The five risk labels (see LABELS.md of the annotation guide) and what to tell a person."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["LABELS", "LABEL_INFO", "LabelInfo", "parse_labels"]

LABELS: tuple[str, ...] = (
    "off_platform",
    "direct_contract",
    "contact_request",
    "escrow_bypass",
    "upfront_fee",
)


@dataclass(frozen=True)
class LabelInfo:
    name: str
    name_ja: str
    description: str
    advice_ja: str
    advice_en: str


LABEL_INFO: dict[str, LabelInfo] = {
    "off_platform": LabelInfo(
        "off_platform",
        "外部連絡への誘導",
        "Moves communication to an outside channel before escrow and outside-contact approval.",
        "仮払いの完了と外部連絡申請の承認を確認してから移行しましょう。それまではプラットフォームのメッセージでやり取りしてください。",
        "Stay on the platform's messages until escrow is funded and the outside-contact application is approved.",
    ),
    "direct_contract": LabelInfo(
        "direct_contract",
        "直接契約・手数料回避",
        "Offers to contract or pay directly, around the platform's fee.",
        "直接契約は規約違反になり、未払い時に補償も受けられません。契約と支払いはプラットフォーム上で行いましょう。",
        "Direct deals break the platform's rules and lose its payment protection; keep contract and payment on the platform.",
    ),
    "contact_request": LabelInfo(
        "contact_request",
        "連絡先・個人情報の要求",
        "Asks for the worker's contact or identity data.",
        "電話番号・住所・口座・身分証などの個人情報は送らないでください。本人確認や支払いはプラットフォームの機能を使います。",
        "Do not send phone numbers, addresses, bank details or ID; the platform handles identity and payment.",
    ),
    "escrow_bypass": LabelInfo(
        "escrow_bypass",
        "仮払い前の作業・外部での納品",
        "Work before escrow, delivery outside the platform, or payment 'later'.",
        "仮払いが完了するまで作業を始めず、納品はプラットフォームの納品機能から行いましょう。",
        "Do not start before escrow is funded, and deliver through the platform's delivery step.",
    ),
    "upfront_fee": LabelInfo(
        "upfront_fee",
        "金銭・購入の要求",
        "The worker must pay or buy something to get or start the work.",
        "仕事を受けるためにお金を払う必要はありません。登録料・教材費などを求める依頼には応じず、運営に通報しましょう。",
        "Real clients do not charge workers to work; do not pay, and report the message to the platform.",
    ),
}


def parse_labels(value: object, *, where: str = "") -> tuple[str, ...]:
    """Labels from a JSON list, a ``;``/``,``-separated string, or None/empty (safe).

    Raises ``ValueError`` naming ``where`` for unknown labels.
    """
    prefix = f"{where}: " if where else ""
    if value is None:
        return ()
    if isinstance(value, float) and value != value:  # NaN from pandas: an empty cell
        return ()
    items: Iterable[object]
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            import json

            try:
                items = json.loads(text)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{prefix}labels look like JSON but do not parse: {exc}") from exc
        else:
            items = [p for chunk in text.split(";") for p in chunk.split(",")]
    elif isinstance(value, (list, tuple)):
        items = value
    else:
        raise ValueError(f"{prefix}labels must be a list or a ';'-separated string, got {type(value).__name__}")
    out: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise ValueError(f"{prefix}label {item!r} is not a string")
        name = item.strip()
        if not name or name == "safe":
            continue
        if name not in LABELS:
            raise ValueError(f"{prefix}unknown label {name!r}; expected some of {list(LABELS)} (or none for safe)")
        if name not in out:
            out.append(name)
    return tuple(sorted(out, key=LABELS.index))
