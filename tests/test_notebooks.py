"""The notebooks run: each is executed with nbclient on small data and must draw its plots.

The notebooks take their data from environment variables (see notebooks/README.md); here they
get a few made-up labeled messages as the dev set, a few made-up chat lines as the corpora, and a
small slice of the training corpus, so the whole file runs in about a minute.
"""

from __future__ import annotations

import gzip
import json
import re
import sys

import pytest
from conftest import ROOT

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("matplotlib")
pytest.importorskip("ipykernel")

NOTEBOOKS = ROOT / "notebooks"
NAMES = ["01_evaluation.ipynb", "02_error_analysis.ipynb", "03_retraining.ipynb"]

DEV = [
    ("d1", "今後の連絡はLINEでお願いします", ["off_platform"]),
    ("d2", "手数料がかかるので直接契約にしませんか", ["direct_contract"]),
    ("d3", "電話番号を教えてください", ["contact_request"]),
    ("d4", "仮払いの前に作業を始めてください", ["escrow_bypass"]),
    ("d5", "登録料5,000円を振り込んでください", ["upfront_fee"]),
    ("d6", "納品ありがとうございました。検収しました", []),
    ("d7", "仮払いが完了しました。よろしくお願いします", []),
    ("d8", "LINEスタンプのイラストをお願いします", []),
    ("d9", "修正点をメッセージでお送りしました", ["escrow_bypass"]),  # deliberately mislabeled: an error to list
]
CHAT = ["こんにちは", "今日は暑いですね", "友達とLINEで話しました", "週末は映画を見ます", "LINE交換しませんか？"]


def _write_data(tmp_path):
    dev = tmp_path / "dev.jsonl"
    dev.write_text(
        "".join(json.dumps({"id": i, "text": t, "labels": y}, ensure_ascii=False) + "\n" for i, t, y in DEV),
        encoding="utf-8",
    )
    corpora = tmp_path / "corpora"
    corpora.mkdir()
    with gzip.open(corpora / "real_persona_chat.jsonl.gz", "wt", encoding="utf-8") as f:
        for i, t in enumerate(CHAT * 4):
            f.write(json.dumps({"id": f"rpc-{i}", "text": t}, ensure_ascii=False) + "\n")
    (corpora / "asdc.jsonl").write_text(
        "".join(
            json.dumps({"id": f"asdc-{i}", "text": t}, ensure_ascii=False) + "\n"
            for i, t in enumerate(["ご宿泊のご相談を承ります", "京都で一泊したいです"])
        ),
        encoding="utf-8",
    )
    return dev, corpora


def _plot_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code" and "plot" in c.metadata.get("tags", [])]


def _images(cell) -> int:
    return sum(1 for out in cell.get("outputs", []) if "image/png" in out.get("data", {}))


@pytest.mark.parametrize("name", NAMES)
def test_notebook_executes_on_small_data(name, tmp_path, monkeypatch):
    dev, corpora = _write_data(tmp_path)
    # The second notebook runs without a dev set: its section must be skipped, not fail.
    monkeypatch.setenv("REDFLAG_DEV", str(dev if name != "02_error_analysis.ipynb" else tmp_path / "absent.jsonl"))
    monkeypatch.setenv("REDFLAG_CORPORA", str(corpora))
    monkeypatch.setenv("REDFLAG_SAMPLE_ROWS", "12")
    monkeypatch.setenv("REDFLAG_TRAIN_ROWS", "400")
    monkeypatch.setenv("MPLBACKEND", "agg")
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}
    )
    client.execute()  # raises CellExecutionError on the first failing cell
    plots = _plot_cells(nb)
    assert plots, "a notebook without plot cells"
    for cell in plots:
        assert _images(cell) >= 1, f"{name}: no image from\n{cell.source}"
    text = "\n".join(
        out.get("text", "") + "".join(out.get("data", {}).get("text/plain", ""))
        for c in nb.cells
        if c.cell_type == "code"
        for out in c.outputs
    )
    if name == "01_evaluation.ipynb":
        assert re.search(r"RealPersonaChat: \d+ of 12 scored \(20 in the corpus\)", text)
        assert "shared dev set  n=9" in text
    if name == "02_error_analysis.ipynb":
        assert "skipped: no dev set" in text


@pytest.mark.parametrize("name", NAMES)
def test_committed_notebooks_are_executed_with_plots(name):
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code), f"{name} is committed unexecuted"
    assert not [o for c in code for o in c.outputs if o.output_type == "error"]
    assert all(_images(c) >= 1 for c in _plot_cells(nb))


def test_documented_command_runs_every_notebook_with_a_defined_extra():
    if sys.version_info >= (3, 11):
        import tomllib
    else:
        import tomli as tomllib
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    for doc in (ROOT / "README.md", NOTEBOOKS / "README.md"):
        text = doc.read_text(encoding="utf-8")
        m = re.search(
            r"pip install '\.\[(\w+)\]' && \S*jupyter nbconvert --to notebook --execute --inplace (\S+)", text
        )
        assert m, f"{doc.name}: no notebook command"
        extra, pattern = m.groups()
        assert {"nbclient", "ipykernel", "matplotlib"} <= {re.split(r"[<>=\[ ]", d)[0] for d in extras[extra]}
        assert sorted(p.name for p in ROOT.glob(pattern)) == NAMES
