"""The bad-files table (cases/bad_files.jsonl): every bad input gives its exact error and exit code.

Exit codes of ``redflag score``: 0 every row was written (bad rows carry ``error``), 1
``--strict`` stopped at a bad row, 2 the input as a whole cannot be read.
"""

from __future__ import annotations

import json

import pytest
from conftest import load_cases

from redflag.cli.main import main

CASES = load_cases("bad_files.jsonl")


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_bad_file(case, tmp_path, capsys):
    path = tmp_path / case["file"]
    kind = case.get("kind")
    if kind == "dir":
        path.mkdir()
    elif kind != "missing":
        data = bytes.fromhex(case["content_hex"]) if "content_hex" in case else case["content"].encode("utf-8")
        path.write_bytes(data)
    out = tmp_path / "out.jsonl"
    code = main(["score", str(path), "-o", str(out), "--no-summary", "--jobs", "1", *case["args"]])
    err = capsys.readouterr().err
    assert code == case["exit"]
    if "stderr" in case:
        assert err.strip().splitlines() == [case["stderr"].format(file=path)]
    if "errors" in case:
        rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
        assert [r["error"] for r in rows] == [e.format(file=path) if e else None for e in case["errors"]]
        assert all((r["labels"] is None) == (r["error"] is not None) for r in rows)
    if code == 2:
        assert not out.exists()  # a file that cannot be read leaves no output behind


def test_error_messages_do_not_quote_message_text(tmp_path, capsys):
    """Errors name the file, line and problem; the text of a message stays out of them."""
    secret = "090-1234-5678 山田花子"
    path = tmp_path / "in.csv"
    path.write_text(f"id,text\n1,{secret},extra\n2,\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert main(["score", str(path), "-o", str(out), "--no-summary", "--jobs", "1"]) == 0
    assert main(["score", str(path), "-o", str(out), "--no-summary", "--strict", "--jobs", "1"]) == 1
    text = capsys.readouterr().err + "".join(
        str(json.loads(line)["error"]) for line in out.read_text(encoding="utf-8").splitlines()
    )
    assert "090" not in text and "山田" not in text
