"""The command line, on real files."""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys

import pytest

from redflag.cli.main import main
from redflag.dataset import default_examples, load_examples
from redflag.io import InputError
from redflag.labels import LABELS
from redflag.scorer import Scorer

SHARED_DEV = None


def _jsonl(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def test_score_jsonl_keeps_every_row_in_order(tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    src.write_text(
        '{"id": "a", "text": "LINEで連絡ください"}\n'
        '{"id": "b", "text": ""}\n'
        "{not json}\n"
        '{"id": "d", "body": "no text field"}\n'
        '{"id": "e", "text": 12}\n'
        '{"id": "f", "text": "納品ありがとうございました"}\n',
        encoding="utf-8",
    )
    assert main(["score", str(src), "--no-summary"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["id"] for r in rows] == ["a", "b", None, "d", "e", "f"]
    assert [r["error"] is not None for r in rows] == [False, True, True, True, True, False]
    assert "line 3, column 2: invalid JSON" in rows[2]["error"]
    assert "no 'text' field" in rows[3]["error"]
    assert "not text (int)" in rows[4]["error"]
    assert "off_platform" in rows[0]["labels"] and rows[5]["labels"] == []
    for r in rows:
        assert set(r) >= {"id", "labels", "scores", "risk", "level", "evidence", "error"}


def test_score_csv_to_csv_carries_extra_columns(tmp_path, root):
    out = tmp_path / "out.csv"
    assert main(["score", str(root / "data/samples/messages.csv"), "-o", str(out), "--no-summary"]) == 0
    with open(root / "data/samples/messages.csv", encoding="utf-8") as f:
        n_in = sum(1 for _ in csv.DictReader(f))
    with open(out, encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == n_in
    assert {"id", "labels", "risk", "level", "score_off_platform", "evidence", "error"} <= set(rows[0])


def test_score_csv_extra_columns_and_malformed_row(tmp_path, capsys):
    src = tmp_path / "in.csv"
    src.write_text(
        'id,text,channel\n1,"LINEで\n連絡ください",web\n2,ok,web,extra\n3,納品しました,app\n', encoding="utf-8"
    )
    out = tmp_path / "out.csv"
    assert main(["score", str(src), "-o", str(out), "--no-summary"]) == 0
    with open(out, encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [r["id"] for r in rows] == ["1", "2", "3"]
    assert rows[0]["channel"] == "web" and rows[0]["error"] == ""
    assert "line 4: expected 3 fields, found 4" in rows[1]["error"]


def test_score_stdin_to_stdout(tmp_path, root):
    proc = subprocess.run(
        [sys.executable, "-m", "redflag.cli.main", "score", "-", "--no-summary"],
        input='{"id": 1, "text": "仮払い前に作業を始めてください"}\n',
        capture_output=True,
        text=True,
        check=True,
    )
    row = json.loads(proc.stdout)
    assert row["id"] == 1 and "escrow_bypass" in row["labels"]


def test_strict_stops_at_first_bad_row(tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": 1, "text": "ok"}\n{broken\n', encoding="utf-8")
    assert main(["score", str(src), "--strict", "--no-summary"]) == 1
    assert "line 2" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p, "is a directory"),
        (lambda p: p / "missing.jsonl", "no such file"),
        (lambda p: (p / "x.txt").write_text("a") and p / "x.txt", "cannot tell the format"),
        (lambda p: (p / "x.csv").write_text("id,body\n1,a\n") and p / "x.csv", "no column 'text'"),
    ],
)
def test_bad_files_exit_2_with_a_clear_message(tmp_path, capsys, make, message):
    assert main(["score", str(make(tmp_path))]) == 2
    assert message in capsys.readouterr().err


def test_score_sample_summary(root, capsys):
    assert main(["score", str(root / "data/samples/messages.csv")]) == 0
    err = capsys.readouterr().err
    assert "rows, 0 errors" in err and "rows/s" in err


def test_eval_prints_metrics(tmp_path, capsys):
    data = tmp_path / "gold.jsonl"
    _jsonl(
        data,
        [
            {"id": "1", "text": "LINEで連絡ください", "labels": ["off_platform"]},
            {"id": "2", "text": "納品ありがとうございました", "labels": []},
        ],
    )
    assert main(["eval", str(data), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["n"] == 2 and "macro_f1" in report and "safe_fpr" in report


def test_explain_shows_labels_evidence_and_advice(capsys):
    assert main(["explain", "今後はＬ Ｉ Ｎ Ｅでやり取りしましょう！"]) == 0
    out = capsys.readouterr().out
    assert "off_platform" in out and "【Ｌ Ｉ Ｎ Ｅでやり取り" in out and "仮払い" in out


def test_train_on_user_csv(tmp_path, capsys):
    data = tmp_path / "mine.csv"
    rows = [
        ("LINEで連絡ください", "off_platform"),
        ("納品しました", ""),
        ("登録料が必要です", "upfront_fee"),
        ("直接契約しましょう", "direct_contract;off_platform"),
        ("電話番号を教えて", '["contact_request"]'),
        ("仮払い前に作業して", "escrow_bypass"),
        ("ありがとうございました", ""),
        ("修正しました", ""),
    ]
    _write_training_csv(data, ("body", "tags"), rows)
    model = tmp_path / "m.npz"
    code = main(
        [
            "train",
            str(data),
            "--text-column",
            "body",
            "--labels-column",
            "tags",
            "-o",
            str(model),
            "--folds",
            "2",
            "--beta",
            "0.8",
            "--no-progress",
        ]
    )
    assert code == 0
    assert model.exists() and (tmp_path / "m.npz.card.md").exists()
    card = json.loads((tmp_path / "m.npz.card.json").read_text(encoding="utf-8"))
    assert card["training"]["examples"] == 32
    # Without a group column each row is its own group, so validation really happened.
    assert card["training"]["groups"] == 32
    assert card["training"]["threshold_f_beta"] == {label: 0.8 for label in LABELS}
    assert card["validation"]["macro_f1"] > 0.5
    assert main(["explain", "LINEで連絡ください", "--model", str(model)]) == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("body,tags\nhello,spam\n", "unknown label 'spam'"),
        ("body,tags\n,off_platform\n", "empty or missing text"),
        ("text,tags\nhello,\n", "no column 'body'"),
        ("body\nhello\n", "no 'tags' column"),
        ("body,tags,weight\nhello,,-1\n", "line 2: 'weight': weight '-1' must be a positive number"),
        ("body,tags,weight\nhello,,0\n", "line 2: 'weight': weight '0' must be a positive number"),
        ("body,tags,weight\nhello,,nan\n", "line 2: 'weight': weight 'nan' must be a positive number"),
        ("body,tags,weight\nhello,,heavy\n", "line 2: 'weight': weight 'heavy' is not a number"),
    ],
)
def test_train_errors_are_clear(tmp_path, capsys, content, message):
    data = tmp_path / "bad.csv"
    data.write_text(content, encoding="utf-8")
    code = main(["train", str(data), "--text-column", "body", "--labels-column", "tags", "-o", str(tmp_path / "m")])
    assert code == 2
    err = capsys.readouterr().err
    assert message in err and "bad.csv" in err


@pytest.mark.parametrize(
    ("beta", "message"),
    [
        ("0", "beta must be a positive number, got 0.0 for off_platform"),
        ("high", "beta 'high' is neither a number nor label=number pairs"),
        ("off_platform=0.8,spam=1", "beta for unknown label(s) ['spam']"),
        ("off_platform=0.8", "beta is missing for ['direct_contract', 'contact_request', 'escrow_bypass', 'upfront_fee']"),
        ("off_platform=x", "beta 'off_platform=x': expected label=number"),
    ],
)
def test_train_refuses_a_beta_it_cannot_use(tmp_path, capsys, beta, message):
    data = tmp_path / "data.csv"
    data.write_text("text,labels\nhello,\nLINEで連絡して,off_platform\n", encoding="utf-8")
    assert main(["train", str(data), "--beta", beta, "-o", str(tmp_path / "m")]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "m").exists()


def test_train_takes_a_beta_per_label(tmp_path):
    rows = [("LINEで連絡ください", "off_platform"), ("直接契約しましょう", "direct_contract"),
            ("電話番号を教えて", "contact_request"), ("仮払い前に作業して", "escrow_bypass"),
            ("登録料を払ってください", "upfront_fee"), ("納品ありがとうございます", ""),
            ("修正をお願いします", ""), ("よろしくお願いします", "")]
    data = tmp_path / "data.csv"
    _write_training_csv(data, ("text", "labels"), rows)
    betas = {"off_platform": 0.7, "direct_contract": 0.9, "contact_request": 1.0, "escrow_bypass": 1.2, "upfront_fee": 0.6}
    spec = ",".join(f"{k}={v}" for k, v in betas.items())
    model = tmp_path / "m.npz"
    assert main(["train", str(data), "-o", str(model), "--folds", "2", "--beta", spec, "--no-progress"]) == 0
    card = json.loads((tmp_path / "m.npz.card.json").read_text(encoding="utf-8"))
    assert card["training"]["threshold_f_beta"] == betas


def test_weights_change_the_fit_and_are_recorded(tmp_path):
    # The same rows twice: once plain, once with the harmless mentions of LINE weighing 5.
    rows = [("LINEで連絡ください", "off_platform"), ("LINEで話しましょう", "off_platform"),
            ("LINEスタンプが好きです", ""), ("LINEの絵文字を作りました", ""), ("納品しました", "")]
    plain, weighted = tmp_path / "plain.csv", tmp_path / "weighted.csv"
    _write_training_csv(plain, ("text", "labels"), rows)
    with open(weighted, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(("text", "labels", "w"))
        for i in range(4):
            for text, labels in rows:
                w.writerow([f"{text}（{i}）", labels, "5" if text.startswith("LINE") and not labels else ""])
    cards, scores = [], []
    for data in (plain, weighted):
        model = tmp_path / f"{data.stem}.npz"
        args = ["train", str(data), "-o", str(model), "--folds", "2", "--no-progress", "--weight-column", "w"]
        assert main(args) == 0
        cards.append(json.loads(model.with_name(model.name + ".card.json").read_text(encoding="utf-8")))
        scores.append(Scorer.load(model).score("LINEが好きです").scores["off_platform"])
    assert cards[0]["training"]["weighted"] == {}
    assert cards[1]["training"]["weighted"] == {"5": 8}
    assert cards[0]["training"]["data_sha256"] != cards[1]["training"]["data_sha256"]
    assert scores[1] < scores[0]  # harmless mentions that count more pull the harmless message down
    assert "8 messages 5, the others 1" in (tmp_path / "weighted.npz.card.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("weight", "expected"),
    [("2.5", 2.5), ("null", 1.0), ('""', 1.0), ('"3"', 3.0), ("true", "weight True is not a number"),
     ("[1]", "weight [1] is not a number"), ("-2", "weight -2 must be a positive number")],
)
def test_weights_in_jsonl(tmp_path, weight, expected):
    data = tmp_path / "w.jsonl"
    data.write_text('{"text": "x", "labels": []}\n{"text": "LINEで", "labels": ["off_platform"], "weight": ' + weight + "}\n",
                    encoding="utf-8")
    if isinstance(expected, float):
        assert [ex.weight for ex in load_examples(str(data))] == [1.0, expected]
    else:
        with pytest.raises(InputError, match=re.escape(f"w.jsonl: line 2: 'weight': {expected}")):
            load_examples(str(data))


def test_shipped_corpus_weighs_only_safe_only_writers():
    examples = default_examples()
    weighted = [ex for ex in examples if ex.weight != 1.0]
    assert weighted and not any(ex.labels for ex in weighted)
    # A weighted message's writer wrote nothing risky; an unweighted safe message's writer did.
    risky_writers = {ex.group.partition(":")[0] for ex in examples if ex.labels}
    assert not any(ex.group.partition(":")[0] in risky_writers for ex in weighted)
    assert all(ex.group.partition(":")[0] in risky_writers for ex in examples if ex.weight == 1.0)


def test_jobs_2_output_is_identical_to_jobs_1(tmp_path, root):
    src = root / "data/samples/messages.csv"
    outs = []
    for jobs in ("1", "2"):
        out = tmp_path / f"out{jobs}.jsonl"
        assert main(["score", str(src), "-o", str(out), "--jobs", jobs, "--no-summary"]) == 0
        outs.append(out.read_bytes())
    assert outs[0] == outs[1] and outs[0].count(b"\n") == 32


def test_cp932_csv_with_multiline_empty_and_malformed_rows(tmp_path):
    src = tmp_path / "excel.csv"
    text = (
        "id,text,memo\r\n"
        '1,"今後はLINEで\r\n連絡ください",複数行\r\n'
        "2,,空のセル\r\n"
        "3,納品ありがとうございました,ok,余分\r\n"
        "4,仮払いが完了しました,ok\r\n"
    )
    src.write_bytes(text.encode("cp932"))
    out = tmp_path / "out.jsonl"
    assert main(["score", str(src), "-o", str(out), "--no-summary"]) == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == ["1", "2", "3", "4"]
    assert [r["error"] is not None for r in rows] == [False, True, True, False]
    assert "off_platform" in rows[0]["labels"]
    assert "message is empty" in rows[1]["error"] and "expected 3 fields, found 4" in rows[2]["error"]


def test_undecodable_bytes_name_the_file_and_line(tmp_path, capsys):
    src = tmp_path / "bad.jsonl"
    src.write_bytes(b'{"id": 1, "text": "ok"}\n' + b'{"id": 2, "text": "\xff\xfe"}\n')
    assert main(["score", str(src), "--encoding", "utf-8"]) == 2
    err = capsys.readouterr().err
    assert "bad.jsonl: line 2, column 20 (byte): bytes are not valid utf-8" in err


def test_lone_surrogates_do_not_lose_rows(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(
        '{"id": "a\\ud800", "text": "LINEで連絡\\ud800ください"}\n{"id": 2, "text": "ok"}\n', encoding="utf-8"
    )
    out = tmp_path / "out.jsonl"
    assert main(["score", str(src), "-o", str(out), "--no-summary"]) == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == ["a\ud800", 2]
    assert rows[0]["error"] is None and "off_platform" in rows[0]["labels"]


def test_eval_rules_table(tmp_path, capsys):
    data = tmp_path / "gold.jsonl"
    _jsonl(
        data,
        [
            {"id": "1", "text": "LINEで連絡ください", "labels": ["off_platform"]},
            {"id": "2", "text": "LINEでの連絡はお受けできません", "labels": []},
            {"id": "3", "text": "今後はChatworkでやり取りしましょう", "labels": []},
        ],
    )
    assert main(["eval", str(data), "--rules", "--json"]) == 0
    rules = {r["rule"]: r for r in json.loads(capsys.readouterr().out)["rules"]}
    move = rules["channel.move"]
    # The refusal is a negated hit and does not count; the mislabeled third message is a safe hit.
    assert (move["fires"], move["on_label"], move["on_safe"]) == (2, 1, 1)
    assert move["precision"] == 0.5
    assert main(["eval", str(data), "--rules"]) == 0
    assert "channel.move" in capsys.readouterr().out


def _many_rows_csv(path, root, n):
    """``n`` rows of the sample messages, repeated, with a carried-through column and bad rows."""
    with open(root / "data/samples/messages.csv", encoding="utf-8") as f:
        texts = [r["text"] for r in csv.DictReader(f)]
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write("id,text,memo\n")
        w = csv.writer(f)
        for i in range(n):
            if i % 1000 == 7:
                f.write(f"{i},too,many,fields\n")
            else:
                w.writerow([i, texts[i % len(texts)] if i % 500 != 499 else " ", f"memo {i} 090-1234-5678"])


def test_default_jobs_uses_all_cores_and_gives_the_same_bytes(tmp_path, root):
    from redflag.cli.score import AUTO_MIN_CHUNKS, CHUNK

    src = tmp_path / "many.csv"
    n = AUTO_MIN_CHUNKS * CHUNK + 300  # enough rows for the default to start workers
    _many_rows_csv(src, root, n)
    outs = []
    for jobs in (["--jobs", "1"], []):
        out = tmp_path / f"out{len(jobs)}.csv"
        assert main(["score", str(src), "-o", str(out), "--no-summary", "--mask-pii", *jobs]) == 0
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
    with open(tmp_path / "out0.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [r["id"] for r in rows] == [str(i) for i in range(n)]
    assert rows[1]["memo"] == "memo 1 [電話番号]"  # carried-through columns are masked by the workers too
    assert "expected 3 fields, found 4" in rows[7]["error"] and "message is empty" in rows[499]["error"]


def test_jobs_2_strict_stops_at_the_first_bad_row(tmp_path, root, capsys):
    src = tmp_path / "many.csv"
    _many_rows_csv(src, root, 1200)
    out = tmp_path / "out.jsonl"
    assert main(["score", str(src), "-o", str(out), "--jobs", "2", "--strict"]) == 1
    assert "many.csv: line 9: expected 3 fields, found 4" in capsys.readouterr().err
    assert out.read_text(encoding="utf-8").count("\n") == 7  # the rows before the bad one


def test_jobs_2_with_a_bad_model_exits_2_and_writes_nothing(tmp_path, root, capsys):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a model")
    out = tmp_path / "out.jsonl"
    code = main(["score", str(root / "data/samples/messages.csv"), "-o", str(out), "--jobs", "2", "--model", str(bad)])
    assert code == 2 and "bad.npz" in capsys.readouterr().err
    assert not out.exists()


def test_negative_jobs_is_a_usage_error(root, capsys):
    assert main(["score", str(root / "data/samples/messages.csv"), "--jobs", "-1"]) == 2
    assert "--jobs -1" in capsys.readouterr().err


def test_platform_applies_in_every_worker(tmp_path):
    from redflag import score

    approved = "仮払いが完了し、外部連絡申請も承認されましたので、以降はChatworkでお願いします"
    src = tmp_path / "in.jsonl"
    _jsonl(src, [{"id": i, "text": approved} for i in range(600)])  # two chunks
    outs = []
    for jobs in ("1", "2"):
        out = tmp_path / f"out{jobs}.jsonl"
        assert main(["score", str(src), "-o", str(out), "--platform", "coconala", "--jobs", jobs, "--no-summary"]) == 0
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
    rows = [json.loads(line) for line in outs[0].splitlines()]
    assert {tuple(r["labels"]) for r in rows} == {score(approved, platform="coconala").labels} == {("off_platform",)}


def test_score_thread_column_carries_each_threads_state(tmp_path):
    src = tmp_path / "threads.csv"
    src.write_text(
        "id,thread,text\n"
        "1,a,ご応募ありがとうございます。\n"
        "2,b,仮払いしました。\n"
        "3,a,ちなみにラインやってます？\n"
        "4,b,外部連絡申請も承認されました。\n"
        "5,a,先に少し作業を進めておいてもらえると助かります\n"
        "6,b,以降はChatworkでお願いします\n"
        "7,b,\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.jsonl"
    assert main(["score", str(src), "-o", str(out), "--thread-column", "thread", "--no-summary"]) == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == ["1", "2", "3", "4", "5", "6", "7"]
    by_id = {r["id"]: r for r in rows}
    assert by_id["5"]["thread_labels"] == ["off_platform", "escrow_bypass"]
    assert by_id["5"]["thread_escalating"] is True
    assert by_id["5"]["thread_contributors"] == {"off_platform": ["3"], "escrow_bypass": ["5"]}
    # Escrow and approval stated earlier in thread b make its move to Chatwork acceptable.
    assert by_id["6"]["labels"] == [] and by_id["6"]["thread_labels"] == []
    assert by_id["7"]["error"] == f"{src}: line 8: message is empty" and by_id["7"]["thread"] == "b"
    # Without threads, the same message alone is a move outside.
    plain = tmp_path / "plain.jsonl"
    assert main(["score", str(src), "-o", str(plain), "--no-summary"]) == 0
    alone = {json.loads(line)["id"]: json.loads(line) for line in plain.read_text(encoding="utf-8").splitlines()}
    assert alone["6"]["labels"] == ["off_platform"] and "thread" not in alone["6"]


def test_score_thread_column_missing_is_a_row_error(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": 1, "text": "こんにちは", "conv": "x"}\n{"id": 2, "text": "どうも"}\n', encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert main(["score", str(src), "-o", str(out), "--thread-column", "conv", "--no-summary"]) == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert rows[0]["error"] is None and rows[0]["thread"] == "x"
    assert rows[1]["error"] == f"{src}: line 2: no thread column 'conv'"


def _write_training_csv(path, header: tuple[str, str], rows: list[tuple[str, str]]) -> None:
    """Four numbered copies of each ``(text, labels)`` row: enough for 2-fold validation."""
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        for i in range(4):
            for text, labels in rows:
                w.writerow([f"{text}（{i}）", labels])
