"""Dask: ``redflag.dask.score_dataframe`` and ``redflag score --scheduler``, on a real local cluster.

The cluster has two worker processes (one thread each), started once for the module.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import pytest

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")
pd = pytest.importorskip("pandas")

import redflag  # noqa: E402
from redflag.cli.main import main  # noqa: E402
from redflag.dask import _scorer_loads, score_dataframe  # noqa: E402
from redflag.frame import RESULT_COLUMNS  # noqa: E402

EXTRA_TEXTS = [
    "今後のやり取りはＬ Ｉ Ｎ Ｅでお願いします！",
    "連絡は〇九〇ー一二三四ー五六七八までお願いします",
    "LINEスタンプの制作をお願いします。LINEで連絡ください",
    "",
    None,
    "納品ありがとうございました。またよろしくお願いします。",
]


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None, silence_logs=40
    )
    client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


@pytest.fixture(scope="module")
def messages(root) -> pd.DataFrame:
    with open(root / "data/samples/messages.csv", encoding="utf-8") as f:
        rows = [{"id": r["id"], "text": r["text"]} for r in csv.DictReader(f)]
    rows += [{"id": f"x{i}", "text": t} for i, t in enumerate(EXTRA_TEXTS)]
    # object dtype: the texts stay Python str / None on both paths.
    return pd.DataFrame(rows, dtype=object)


@pytest.mark.parametrize("options", [{}, {"allow": ["LINEスタンプ"], "mask_pii": True}])
def test_dask_labels_equal_local_labels(client, messages, scorer, options):
    ddf = dd.from_pandas(messages, npartitions=4)
    remote = score_dataframe(ddf, "text", **options).compute()
    local = redflag.score_frame(messages, "text", scorer=scorer, **options)
    assert len(remote) == len(messages)
    assert remote["labels"].tolist() == local["labels"].tolist()
    assert any(labels for labels in local["labels"].tolist() if isinstance(labels, list))
    # Dask may store the input's text columns as Arrow strings; the result columns are identical.
    assert remote["id"].tolist() == local["id"].tolist()
    pd.testing.assert_frame_equal(remote[list(RESULT_COLUMNS)], local[list(RESULT_COLUMNS)])
    assert remote["error"].notna().tolist() == [t is None or t == "" for t in messages["text"]]


def test_result_has_the_declared_columns_and_dtypes(client, messages):
    ddf = dd.from_pandas(messages, npartitions=3)
    lazy = score_dataframe(ddf)
    computed = lazy.compute()
    assert list(lazy.columns) == ["id", "text", *RESULT_COLUMNS]
    assert dict(lazy.dtypes) == dict(computed.dtypes)


def test_each_worker_loads_the_model_once(client, messages):
    ddf = dd.from_pandas(messages, npartitions=6)
    for _ in range(2):
        score_dataframe(ddf).compute()
    loads = client.run(_scorer_loads)
    assert len(loads) == 2
    assert all(n <= 1 for n in loads.values()) and sum(loads.values()) >= 1


def test_missing_text_column(client, messages):
    with pytest.raises(KeyError, match="no column 'body'"):
        score_dataframe(dd.from_pandas(messages, npartitions=1), "body")


@pytest.fixture(scope="module")
def many_rows(tmp_path_factory, messages):
    """A CSV of several chunks, with unusable rows among them."""
    path = tmp_path_factory.mktemp("dask") / "many.csv"
    texts = [t for t in messages["text"] if t]
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write("id,text,memo\n")
        w = csv.writer(f)
        for i in range(1300):
            if i % 211 == 5:
                f.write(f"{i},two,extra,fields\n")
            else:
                w.writerow([i, texts[i % len(texts)] if i % 97 else "", f"memo {i}"])
    return path


@pytest.mark.parametrize("suffix", ["jsonl", "csv"])
def test_scheduler_output_is_identical_to_jobs_1(client, many_rows, tmp_path, suffix):
    outs = []
    for how in (["--jobs", "1"], ["--scheduler", client.cluster.scheduler_address]):
        out = tmp_path / f"out-{how[0][2:]}.{suffix}"
        assert main(["score", str(many_rows), "-o", str(out), "--no-summary", "--mask-pii", *how]) == 0
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
    if suffix == "jsonl":
        rows = [json.loads(line) for line in outs[0].splitlines()]
        assert [r["id"] for r in rows] == [str(i) for i in range(1300)]
        assert sum(r["error"] is not None for r in rows) > 0


def test_scheduler_with_a_bad_model_exits_2(client, many_rows, tmp_path, capsys):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a model")
    out = tmp_path / "out.jsonl"
    code = main(
        ["score", str(many_rows), "-o", str(out), "--scheduler", client.cluster.scheduler_address, "--model", str(bad)]
    )
    assert code == 2
    assert "bad.npz" in capsys.readouterr().err
    assert not out.exists()


def test_import_redflag_does_not_import_dask():
    code = (
        "import sys, redflag, redflag.dask, redflag.cli.main; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed', 'pyarrow')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_platform_reaches_the_workers(client, scorer):
    approved = "仮払いが完了し、外部連絡申請も承認されましたので、以降はChatworkでお願いします"
    frame = pd.DataFrame({"text": [approved, "納品しました"]}, dtype=object)
    ddf = dd.from_pandas(frame, npartitions=2)
    for platform, labels in (("generic", []), ("coconala", ["off_platform"])):
        remote = score_dataframe(ddf, platform=platform).compute()
        local = redflag.score_frame(frame, scorer=scorer, platform=platform)
        assert remote["labels"].tolist() == local["labels"].tolist() == [labels, []]
