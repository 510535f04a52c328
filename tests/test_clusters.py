"""Word clusters: the packaged table, the v: features, the model's check of its table, evidence."""

from __future__ import annotations

import gzip
import io
import json
import pickle
import zipfile

import numpy as np
import pytest

from redflag.clusters import WordClusters, default_word_clusters
from redflag.features import Analyzer, FeatureConfig
from redflag.model import LinearModel, ModelFormatError
from redflag.rules import load_rules
from redflag.scorer import Scorer


@pytest.fixture(scope="module")
def table() -> WordClusters:
    return default_word_clusters()


@pytest.mark.parametrize(
    ("alike", "other"),
    [
        # Channels of contact, money routes: the groups the model's generalization rests on.
        (("電話", "チャット"), "口座"),
        (("メール", "Gmail", "アドレス"), "電話"),
        (("口座", "送金", "入金", "支払い", "後払い", "先払い"), "電話"),
        (("LINE", "Slack"), "電話"),
        (("住所", "郵便"), "口座"),
        (("Zoom", "ズーム"), "電話"),
    ],
)
def test_words_used_alike_share_a_cluster(table, alike, other):
    clusters = {table.cluster(w) for w in alike}
    assert len(clusters) == 1 and None not in clusters
    assert table.cluster(other) not in clusters


def test_latin_words_fall_back_to_lower_case(table):
    assert table.cluster("Discord") == table.cluster("discord") is not None
    assert table.cluster("ＬＩＮＥ") is None  # the table is looked up after normalization, which folds width
    assert table.cluster("これは辞書にない語です") is None
    # Words MeCab never gives whole are left out of the table: it cuts 電話番号 into 電話 + 番号.
    assert table.cluster("電話番号") is None and table.cluster("番号") is not None


def test_table_is_the_size_it_was_built_with(table):
    assert len(table) == 280_009
    assert max(table.table.values()) == 2999


def test_bad_table_line_names_file_and_line(tmp_path):
    path = tmp_path / "t.tsv.gz"
    # A word may itself start with '#': only a line without a tab is a comment.
    path.write_bytes(gzip.compress("# header\n#9\t3\n電話\t1\n連絡\tone\n".encode()))
    with pytest.raises(ValueError, match=r"t\.tsv\.gz, line 4: expected word<TAB>cluster"):
        WordClusters.read(path)
    path.write_bytes(gzip.compress("# header\n#9\t3\n電話\t1\n".encode()))
    read = WordClusters.read(path)
    assert read.table == {"#9": 3, "電話": 1}
    assert pickle.loads(pickle.dumps(read)).table == read.table
    made = WordClusters({"電話": 1}, sha256="0" * 64)
    again = pickle.loads(pickle.dumps(made))
    assert (again.table, again.sha256) == (made.table, made.sha256)


def test_the_packaged_table_pickles_by_reference(table):
    data = pickle.dumps(table)
    assert len(data) < 1000
    assert pickle.loads(data) is table


def test_analysis_has_a_cluster_feature_per_known_word(table):
    analyzer = Analyzer(load_rules(), FeatureConfig())
    a = analyzer.analyze("お電話でご連絡ください")
    want = [f"v:{table.cluster(w)}" for w in a.words if table.cluster(w) is not None]
    assert want and [f for f in a.features if f.startswith("v:")] == want
    off = Analyzer(load_rules(), FeatureConfig(word_clusters=False)).analyze("お電話でご連絡ください")
    assert not any(f.startswith("v:") for f in off.features)


def test_allow_listed_words_give_no_cluster_feature(table):
    analyzer = Analyzer(load_rules(), FeatureConfig())
    a = analyzer.analyze("LINEスタンプの制作をお願いします", allow=["LINE"])
    assert f"v:{table.cluster('LINE')}" not in a.features


def test_model_with_another_table_is_refused(tmp_path):
    model = Scorer.load().model
    path = tmp_path / "m.npz"
    model.save(path)
    assert LinearModel.load(path).config.word_clusters
    # The same file with another table's hash in its header.
    with zipfile.ZipFile(path) as z:
        entries = {name: z.read(name) for name in z.namelist()}
    with np.load(path, allow_pickle=False) as z:
        header = json.loads(z["header"].tobytes().decode("utf-8"))
    header["word_clusters_sha256"] = "0" * 64
    member = io.BytesIO()
    np.lib.format.write_array(member, np.frombuffer(json.dumps(header).encode(), dtype=np.uint8))
    entries["header.npy"] = member.getvalue()
    other = tmp_path / "other.npz"
    with zipfile.ZipFile(other, "w") as z:
        for name, data in entries.items():
            z.writestr(name, data)
    with pytest.raises(ModelFormatError, match=r"word-cluster table 0{64}, but this redflag has"):
        LinearModel.load(other)


def test_cluster_evidence_points_at_a_word_of_its_cluster(scorer):
    table = scorer.analyzer.clusters
    assert table is not None
    seen = 0
    for text in ("お手数ですが、お電話番号を教えてください", "報酬は口座に直接お送りします", "続きはSlackでお話ししましょう"):
        a = scorer.score(text)
        for ev in a.evidence:
            if ev.rule.startswith("model:v:"):
                seen += 1
                assert table.cluster(scorer.analyzer.analyze(ev.text).words[0]) == int(ev.rule.rpartition(":")[2])
                assert text[ev.start : ev.end] == ev.text
                assert "such as" in ev.reason_en
    assert seen, "no cluster feature was shown as evidence in these messages"
