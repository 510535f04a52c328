"""Build the training corpus from its independently written parts.

    python data/build.py            # writes data/train.jsonl and src/redflag/data/corpus.jsonl.gz

Inputs (see data/README.md for who wrote what):

- ``data/raw/*.jsonl``: whole messages, each file by a different writer with its own brief.
- ``data/parts/wrappers.toml``: safe openers, closings and signatures in many voices.
- ``data/parts/excluded.tsv``: raw messages left out, each with the reason.

What the builder adds, deterministically (fixed seed):

- wrapped variants: a raw message inside an opener / closing / signature;
- surface variants: the obfuscations and typos clients use (spaced or emoji-separated
  channel names, full-width letters, kanji digits in phone numbers, spelled-out e-mail
  addresses, dropped characters). They are applied to safe and risky messages alike, so that
  an obfuscated form never means "risky" by itself; labels never change (LABELS.md:
  obfuscation does not change the label);
- two-part messages: two messages of the same source block joined, labels united, so that a
  request buried after ordinary talk is still seen, and long safe messages exist too.

Every message carries a ``group``: its writer and block of 40 consecutive messages. Variants
and joins stay inside their group, so grouped cross-validation never scores a message with a
model that saw a variant of it.

The messages of safe-only writers (files whose every message is safe: ordinary talk that uses
the risky words harmlessly) carry a ``weight`` of ``SAFE_WRITER_WEIGHT`` in the fit; every other
message weighs 1 (see data/README.md).
"""

from __future__ import annotations

import gzip
import json
import random
import re
import sys
from collections import Counter
from pathlib import Path

import tomllib

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
LABELS = ("off_platform", "direct_contract", "contact_request", "escrow_bypass", "upfront_fee")
BLOCK = 40
SEED = 20261123
WRAP_RATE = 0.55
SURFACE_RATE = 0.35
JOIN_RATE = 0.22
# Chosen with benchmarks/training_sets.py --safe-writer-weight (out-of-fold figures and real-chat
# flags, never the shared dev set): see data/README.md.
SAFE_WRITER_WEIGHT = 4.0
#: Share of raw messages also written out in kana, by their readings (see kana_reading).
KANA_RATE = 0.08


def load_excluded() -> dict[str, str]:
    """Raw message ids left out of the corpus, with the reason (``data/parts/excluded.tsv``)."""
    out: dict[str, str] = {}
    path = HERE / "parts" / "excluded.tsv"
    for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        msg_id, sep, reason = line.partition("\t")
        if not sep or not reason.strip():
            sys.exit(f"{path}:{line_no}: expected an id, a tab and a reason")
        out[msg_id.strip()] = reason.strip()
    return out


def load_raw() -> list[dict]:
    rows: list[dict] = []
    seen: set[str] = set()
    excluded = load_excluded()
    found: set[str] = set()
    for path in sorted((HERE / "raw").glob("*.jsonl")):
        writer = path.stem
        n = 0
        for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            r = json.loads(line)
            if r["id"] in excluded:
                found.add(r["id"])
                continue
            bad = [lab for lab in r["labels"] if lab not in LABELS]
            if bad:
                sys.exit(f"{path}:{line_no}: unknown labels {bad}")
            text = r["text"].strip()
            if not text or text in seen:
                continue
            seen.add(text)
            rows.append(
                {
                    "id": r["id"],
                    "text": text,
                    "labels": sorted(set(r["labels"]), key=LABELS.index),
                    "group": f"{writer}:{n // BLOCK}",
                    "source": f"raw/{path.name}",
                }
            )
            n += 1
    missing = sorted(set(excluded) - found)
    if missing:
        sys.exit(f"data/parts/excluded.tsv: ids not found in data/raw: {missing}")
    risky_sources = {r["source"] for r in rows if r["labels"]}
    for r in rows:
        r["weight"] = 1.0 if r["source"] in risky_sources else SAFE_WRITER_WEIGHT
    return rows


# ------------------------------------------------------------------ surface variants

_CHANNELS = [
    "LINE",
    "ライン",
    "Chatwork",
    "チャットワーク",
    "Discord",
    "Slack",
    "Skype",
    "Telegram",
    "テレグラム",
    "ディスコード",
]
_SEPARATORS = [" ", "  ", "・", ".", "💚", "⭐", "_", "\u200b", "＊"]
_KANJI = dict(zip("0123456789", "〇一二三四五六七八九"))
_FULL = {chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)}
_PHONE = re.compile(r"0\d{1,4}[-ー－ \u3000]?\d{1,4}[-ー－ \u3000]?\d{3,4}")
_EMAIL = re.compile(r"[A-Za-z0-9._\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+")


def spaced_channel(text: str, rng: random.Random) -> str | None:
    found = [c for c in _CHANNELS if c in text]
    if not found:
        return None
    name = rng.choice(found)
    sep = rng.choice(_SEPARATORS)
    return text.replace(name, sep.join(name), 1)


def fullwidth(text: str, rng: random.Random) -> str | None:
    out = "".join(_FULL.get(ch, ch) if ch.isascii() and ch.isalnum() else ch for ch in text)
    return out if out != text else None


def kanji_phone(text: str, rng: random.Random) -> str | None:
    m = _PHONE.search(text)
    if not m:
        return None
    dash = rng.choice(["ー", "-", "の", " "])
    digits = re.sub(r"\D", "-", m.group())
    spelled = "".join(_KANJI.get(c, dash) for c in digits)
    return text[: m.start()] + spelled + text[m.end() :]


def spelled_email(text: str, rng: random.Random) -> str | None:
    m = _EMAIL.search(text)
    if not m:
        return None
    at = rng.choice([" アットマーク ", "(at)", "＠", " あっと ", "[at]"])
    dot = rng.choice([" ドット ", "(dot)", ".", "．"])
    local, domain = m.group().split("@", 1)
    return text[: m.start()] + local + at + domain.replace(".", dot) + text[m.end() :]


def dropped_char(text: str, rng: random.Random) -> str | None:
    spots = [i for i, ch in enumerate(text) if "\u3041" <= ch <= "\u3093"]
    if len(spots) < 8:
        return None
    i = rng.choice(spots[2:-2])
    return text[:i] + text[i + 1 :]


def casual_end(text: str, rng: random.Random) -> str | None:
    if not text.endswith(("。", "ます", "です")):
        return None
    return text.rstrip("。") + rng.choice(["！", "🙏", "😊", "〜", "!!", "ｗ", "♪"])


SURFACE = [spaced_channel, fullwidth, kanji_phone, spelled_email, dropped_char, casual_end]


def surface_variant(text: str, rng: random.Random) -> tuple[str, str] | None:
    for fn in rng.sample(SURFACE, len(SURFACE)):
        out = fn(text, rng)
        if out and out != text:
            return out, fn.__name__
    return None


_TAGGER = None
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff々〆]")
_KATAKANA = re.compile(r"[\u30a1-\u30f6\u30fc]+")
_TO_HIRAGANA = {c: c - 0x60 for c in range(0x30A1, 0x30F7)}


def kana_reading(text: str, rng: random.Random) -> str | None:
    """The message as someone writes it who avoids kanji (in hiragana, by each word's reading from
    MeCab/UniDic): 「かりばらいのまえに さぎょうを はじめてください」. Katakana words become
    hiragana too, or stay (one or the other per message); a space follows case and topic particles in some
    messages, as in text written all in kana. Other characters (Latin, digits, emoji, spaces) stay."""
    global _TAGGER
    if not _HAN.search(text):
        return None
    if _TAGGER is None:
        import fugashi

        _TAGGER = fugashi.Tagger()
    keep_katakana = rng.random() < 0.5
    spaced = rng.random() < 0.3
    out = []
    for word in _TAGGER(text):
        surface, reading = word.surface, word.feature.kana
        if _HAN.search(surface) and reading and reading != "*":
            piece = reading.translate(_TO_HIRAGANA)
        elif not keep_katakana and _KATAKANA.fullmatch(surface):
            piece = surface.translate(_TO_HIRAGANA)
        else:
            piece = surface
        out.append(word.white_space + piece)
        if spaced and word.feature.pos2 in ("格助詞", "係助詞") and surface != "の":
            out.append(" ")
    kana = "".join(out).replace("  ", " ")
    return kana if kana != text else None


# ------------------------------------------------------------------ wrapping and joining


def wrapped(text: str, parts: dict, rng: random.Random) -> str:
    pieces = []
    if rng.random() < 0.75:
        pieces.append(rng.choice(parts["openers"]))
    pieces.append(text)
    if rng.random() < 0.6:
        pieces.append(rng.choice(parts["closings"]))
    out = ("\n" if rng.random() < 0.5 else "").join(pieces)
    if rng.random() < 0.3:
        out += rng.choice(parts["signatures"])
    return out


def build() -> list[dict]:
    rng = random.Random(SEED)
    parts = tomllib.loads((HERE / "parts" / "wrappers.toml").read_text(encoding="utf-8"))
    raw = load_raw()
    out = list(raw)
    by_group: dict[str, list[dict]] = {}
    for r in raw:
        by_group.setdefault(r["group"], []).append(r)
    for r in raw:
        if rng.random() < WRAP_RATE:
            out.append(
                {
                    **r,
                    "id": r["id"] + "-w",
                    "text": wrapped(r["text"], parts, rng),
                    "source": r["source"] + " + parts/wrappers.toml",
                }
            )
        if rng.random() < SURFACE_RATE:
            v = surface_variant(r["text"], rng)
            if v:
                out.append({**r, "id": r["id"] + "-s", "text": v[0], "source": r["source"] + f" + {v[1]}"})
    # Its own random stream, so that the variants above stay what they were without this one.
    kana_rng = random.Random(SEED + 1)
    for r in raw:
        if kana_rng.random() < KANA_RATE:
            kana = kana_reading(r["text"], kana_rng)
            if kana:
                out.append({**r, "id": r["id"] + "-k", "text": kana, "source": r["source"] + " + kana_reading"})
    for group, members in sorted(by_group.items()):
        for r in members:
            if rng.random() >= JOIN_RATE or len(members) < 2:
                continue
            other = rng.choice([m for m in members if m is not r])
            first, second = (r, other) if rng.random() < 0.5 else (other, r)
            text = first["text"] + rng.choice(["\n\n", "\n", "。また、", " "]) + second["text"]
            labels = sorted(set(first["labels"]) | set(second["labels"]), key=LABELS.index)
            out.append(
                {
                    "id": f"{first['id']}+{second['id']}",
                    "text": text,
                    "labels": labels,
                    "group": group,
                    "source": f"{first['source']} joined with {second['id']}",
                    "weight": first["weight"],  # one group, one writer: both weigh the same
                }
            )
    seen: set[str] = set()
    unique = []
    for r in out:
        if r["text"] not in seen:
            seen.add(r["text"])
            unique.append(r)
    return unique


def main() -> None:
    rows = build()
    lines = [json.dumps(_row(r), ensure_ascii=False) for r in rows]
    blob = ("\n".join(lines) + "\n").encode("utf-8")
    (HERE / "train.jsonl").write_bytes(blob)
    target = ROOT / "src" / "redflag" / "data" / "corpus.jsonl.gz"
    target.write_bytes(gzip.compress(blob, mtime=0))
    counts = Counter(lab for r in rows for lab in r["labels"])
    safe = sum(1 for r in rows if not r["labels"])
    print(
        f"{len(rows)} messages, {safe} safe ({safe / len(rows):.1%}); "
        + ", ".join(f"{lab}={counts[lab]}" for lab in LABELS)
    )
    if "--table" in sys.argv:
        print_table(load_raw(), rows)


def _row(r: dict) -> dict:
    """The fields written for a message; ``weight`` only where it is not 1."""
    out = {k: r[k] for k in ("id", "text", "labels", "group", "source")}
    if r["weight"] != 1.0:
        out["weight"] = r["weight"]
    return out


def print_table(raw: list[dict], rows: list[dict]) -> None:
    """Markdown table of raw messages per writer file, and of the built corpus by kind."""
    print("| part | messages | safe | " + " | ".join(LABELS) + " |")
    print("|---" * (len(LABELS) + 3) + "|")
    by_file: dict[str, list[dict]] = {}
    for r in raw:
        by_file.setdefault(r["source"], []).append(r)
    kinds = {
        "raw (hand-written)": [r for r in rows if "+" not in r["id"] and not r["id"].endswith(("-w", "-s", "-k"))],
        "wrapped variants": [r for r in rows if r["id"].endswith("-w")],
        "surface variants": [r for r in rows if r["id"].endswith("-s")],
        "kana readings": [r for r in rows if r["id"].endswith("-k")],
        "two-part joins": [r for r in rows if "+" in r["id"]],
        "**built corpus**": rows,
    }
    for name, part in [*sorted(by_file.items()), *kinds.items()]:
        c = Counter(lab for r in part for lab in r["labels"])
        safe = sum(1 for r in part if not r["labels"])
        print(f"| {name} | {len(part)} | {safe} | " + " | ".join(str(c[lab]) for lab in LABELS) + " |")


if __name__ == "__main__":
    main()
