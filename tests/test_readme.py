"""The README's Python examples run as written."""

from __future__ import annotations

import re

from conftest import ROOT

BLOCKS = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), flags=re.S)


def test_readme_has_python_examples():
    assert BLOCKS


def test_readme_python_examples_run(capsys):
    namespace: dict = {}
    for block in BLOCKS:
        exec(compile(block, "README.md", "exec"), namespace)
    a = namespace["a"]
    # The example's comments show these values.
    assert a.labels == ("off_platform",)
    assert set(a.advice) == {"off_platform"}
    assert all(ev.text in "今後のやり取りはＬ Ｉ Ｎ Ｅでお願いします！" for ev in a.evidence)
    assert "off_platform" in capsys.readouterr().out
    msg = namespace["msg"]
    assert namespace["redflag"].score(msg).labels == ()
    assert namespace["redflag"].score(msg, platform="coconala").labels == ("off_platform",)
    t = namespace["thread"]
    assert t.labels == ("off_platform", "escrow_bypass", "upfront_fee")
    assert t.escalating and t.level == "high"
    assert t.contributors == {"off_platform": (1,), "escrow_bypass": (2,), "upfront_fee": (3,)}
