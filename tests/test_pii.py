from __future__ import annotations

import json

import pytest
from conftest import load_cases

from redflag.cli.main import main
from redflag.pii import mask

CASES = load_cases("pii.jsonl")


@pytest.mark.parametrize("case", CASES, ids=[c["text"][:20] for c in CASES])
def test_mask_table(case):
    assert mask(case["text"]) == case["masked"]


def test_mask_pii_in_assessment(scorer):
    text = "お急ぎの場合は〇九〇ー一二三四ー五六七八までお電話ください"
    plain = scorer.score(text)
    masked = scorer.score(text, mask_pii=True)
    assert masked.labels == plain.labels
    assert any("〇九〇" in ev.text for ev in plain.evidence)
    assert not any("〇九〇" in ev.text for ev in masked.evidence)
    assert [(e.start, e.end) for e in masked.evidence] == [(e.start, e.end) for e in plain.evidence]


def test_cli_mask_pii_covers_evidence_and_carried_columns(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(
        json.dumps({"id": 1, "text": "tanaka@gmail.com に連絡ください", "sender": "090-1111-2222"}, ensure_ascii=False)
        + "\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.csv"
    assert main(["score", str(src), "-o", str(out), "--mask-pii", "--no-summary"]) == 0
    content = out.read_text(encoding="utf-8")
    assert "tanaka@gmail.com" not in content and "090-1111-2222" not in content
    assert "[メールアドレス]" in content and "[電話番号]" in content
