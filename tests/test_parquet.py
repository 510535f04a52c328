"""Parquet input and output of ``redflag score``, on real Parquet files written with pyarrow."""

from __future__ import annotations

import csv
import datetime
import json
import sys

import pytest

from redflag.cli.main import main
from redflag.io import PARQUET_BATCH, InputError, read_rows, require_pyarrow

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

TEXTS = [
    "今後のやり取りはＬ Ｉ Ｎ Ｅでお願いします！ 090-1234-5678",
    None,
    "",
    "納品ありがとうございました",
    "仮払い前ですが、先に作業を始めてもらえますか？",
]


def _sample_texts(root) -> list[str]:
    with open(root / "data/samples/messages.csv", encoding="utf-8") as f:
        return [r["text"] for r in csv.DictReader(f)]


def _write(path, **columns) -> None:
    pq.write_table(pa.table(columns), path)


def _lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_parquet_to_parquet_keeps_rows_order_and_column_types(tmp_path):
    src, out = tmp_path / "in.parquet", tmp_path / "out.parquet"
    sent = [datetime.datetime(2024, 5, day) for day in range(1, len(TEXTS) + 1)]
    _write(
        src,
        id=pa.array([10, 20, 30, 40, 50], pa.int64()),
        text=pa.array(TEXTS, pa.string()),
        sent=pa.array(sent, pa.timestamp("ms")),
        channel=pa.array(["web", "app", None, "web", "app"]),
    )
    assert main(["score", str(src), "-o", str(out), "--no-summary", "--mask-pii"]) == 0
    table = pq.read_table(out)
    assert table.column_names[:3] == ["id", "sent", "channel"]
    assert table.schema.field("id").type == pa.int64()
    assert table.schema.field("sent").type == pa.timestamp("ms")
    assert table.schema.field("labels").type == pa.list_(pa.string())
    assert table.schema.field("risk").type == pa.float64()
    rows = table.to_pylist()
    assert [r["id"] for r in rows] == [10, 20, 30, 40, 50]
    assert [r["sent"] for r in rows] == sent
    assert [r["channel"] for r in rows] == ["web", "app", None, "web", "app"]
    assert [r["error"] is not None for r in rows] == [False, True, True, False, False]
    assert rows[1]["error"].endswith(": row 2: message is missing") and rows[2]["error"].endswith(": row 3: message is empty")
    assert "off_platform" in rows[0]["labels"] and rows[3]["labels"] == []
    assert rows[4]["labels"] == ["escrow_bypass"]
    texts = [ev["text"] for ev in rows[0]["evidence"]]
    assert "[電話番号]" in texts and not any("090" in t for t in texts)  # --mask-pii reached the evidence


def test_parquet_results_match_jsonl_results(tmp_path):
    """The same rows read from Parquet and from JSONL give the same output, byte for byte."""
    src, jsonl = tmp_path / "in.parquet", tmp_path / "in.jsonl"
    ids = [f"m{i}" for i in range(len(TEXTS))]
    _write(src, id=ids, text=pa.array(TEXTS, pa.string()))
    jsonl.write_text(
        "".join(json.dumps({"id": i, "text": t}, ensure_ascii=False) + "\n" for i, t in zip(ids, TEXTS)),
        encoding="utf-8",
    )
    outs = []
    for path in (src, jsonl):
        out = tmp_path / f"{path.suffix[1:]}.jsonl"
        assert main(["score", str(path), "-o", str(out), "--no-summary"]) == 0
        outs.append(_lines(out))
    for a, b in zip(*outs):
        # Where a row is unusable, a Parquet row is named by its row number, a JSONL row by its line.
        assert {k: v for k, v in a.items() if k != "error"} == {k: v for k, v in b.items() if k != "error"}
        assert (a["error"] is None) == (b["error"] is None)
    assert len(outs[0]) == len(TEXTS)


def test_many_batches_one_row_each_in_order(tmp_path):
    src = tmp_path / "big.parquet"
    n = 2 * PARQUET_BATCH + 37
    # Small row groups, so that batches cross row-group boundaries too.
    pq.write_table(
        pa.table({"id": list(range(n)), "text": [f"メッセージ{i}" for i in range(n)]}), src, row_group_size=300
    )
    rows = list(read_rows(str(src)))
    assert [r.id for r in rows] == list(range(n))
    assert [r.line for r in rows] == list(range(1, n + 1))
    assert [r.index for r in rows] == list(range(n))
    assert all(r.text == f"メッセージ{r.id}" and r.error is None and r.where == f"{src}: row {r.id + 1}" for r in rows)


def test_csv_to_parquet_and_jobs_2_match_jobs_1(tmp_path, root):
    texts = _sample_texts(root)
    src = tmp_path / "in.csv"
    with open(src, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "text", "memo"])
        for i in range(700):  # more than one chunk, so that the workers share the work
            w.writerow([i, texts[i % len(texts)], f"memo {i}"])
    tables = []
    for jobs in ("1", "2"):
        out = tmp_path / f"out{jobs}.parquet"
        assert main(["score", str(src), "-o", str(out), "--jobs", jobs, "--no-summary"]) == 0
        tables.append(pq.read_table(out))
    assert tables[0].equals(tables[1])
    assert tables[0].num_rows == 700
    assert tables[0].schema.field("id").type == pa.string()  # CSV columns are text
    assert tables[0].column("memo").to_pylist()[:2] == ["memo 0", "memo 1"]
    assert tables[0].column("id").to_pylist() == [str(i) for i in range(700)]


def test_jsonl_values_that_are_not_text_are_written_as_json(tmp_path):
    src, out = tmp_path / "in.jsonl", tmp_path / "out.parquet"
    src.write_text(
        '{"id": 1, "text": "納品しました", "tags": ["a", "b"]}\n{"id": "x", "text": "ok", "tags": null}\n',
        encoding="utf-8",
    )
    assert main(["score", str(src), "-o", str(out), "--no-summary"]) == 0
    rows = pq.read_table(out).to_pylist()
    assert [r["id"] for r in rows] == ["1", "x"]
    assert [r["tags"] for r in rows] == ['["a", "b"]', None]


def test_empty_input_writes_a_valid_empty_file(tmp_path):
    src, out = tmp_path / "in.csv", tmp_path / "out.parquet"
    src.write_text("id,text\n", encoding="utf-8")
    assert main(["score", str(src), "-o", str(out), "--no-summary"]) == 0
    table = pq.read_table(out)
    assert table.num_rows == 0 and {"id", "labels", "risk", "evidence", "error"} <= set(table.column_names)


def test_text_column_of_numbers_is_an_error_per_row(tmp_path):
    src, out = tmp_path / "in.parquet", tmp_path / "out.jsonl"
    _write(src, id=["a", "b"], text=[1, 2])
    assert main(["score", str(src), "-o", str(out), "--no-summary"]) == 0
    assert [r["error"].split(": ", 1)[1] for r in _lines(out)] == ["row 1: message is not text (int)", "row 2: message is not text (int)"]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: _write(p / "x.parquet", id=[1], body=["a"]) or p / "x.parquet", "no column 'text' in the columns"),
        (lambda p: (p / "x.parquet").write_text("id,text\n1,a\n") and p / "x.parquet", "not a readable Parquet file"),
        (lambda p: (p / "x.parquet").write_bytes(b"") or p / "x.parquet", "empty file, nothing to score"),
    ],
)
def test_bad_parquet_files_exit_2_and_leave_no_output(tmp_path, capsys, make, message):
    src = make(tmp_path)
    out = tmp_path / "out.jsonl"
    assert main(["score", str(src), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err and "x.parquet" in err
    assert not out.exists()


def test_parquet_from_stdin_is_refused(capsys):
    assert main(["score", "-", "--format", "parquet"]) == 2
    assert "Parquet cannot be read from stdin" in capsys.readouterr().err


def test_missing_pyarrow_says_how_to_install(monkeypatch, tmp_path, capsys):
    # A None entry in sys.modules makes the import fail, as it does where pyarrow is not installed.
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    with pytest.raises(InputError, match=r"pip install 'redflag\[parquet\]'"):
        require_pyarrow("reading Parquet")
    src = tmp_path / "in.csv"
    src.write_text("id,text\n1,ok\n", encoding="utf-8")
    assert main(["score", str(src), "-o", str(tmp_path / "out.parquet")]) == 2
    assert "writing Parquet needs pyarrow: pip install 'redflag[parquet]'" in capsys.readouterr().err


def test_ids_of_any_parquet_type_reach_jsonl_output(tmp_path):
    src, out = tmp_path / "in.parquet", tmp_path / "out.jsonl"
    _write(src, id=pa.array([datetime.date(2024, 5, 1), None]), text=["LINEで連絡ください", "納品しました"])
    assert main(["score", str(src), "-o", str(out), "--no-summary"]) == 0
    rows = _lines(out)
    assert [r["id"] for r in rows] == ["2024-05-01", None]
    assert "off_platform" in rows[0]["labels"] and rows[1]["labels"] == []
