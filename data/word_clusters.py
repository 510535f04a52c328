"""Build the word-cluster table the model's ``v:`` features come from.

    pip install msgpack
    python data/word_clusters.py [--wheel ja_ginza-5.3.0-py3-none-any.whl] [--k 3000]

The word vectors are chiVe's (Works Applications, Apache-2.0), as the GiNZA package ``ja_ginza``
5.3.0 (MIT) ships them on PyPI: 480,425 words (Sudachi normalized forms) pointing at 20,000
vectors of 300 dimensions. Without ``--wheel`` the package is fetched with ``pip download``. The
20,000 vectors, scaled to unit length, are grouped by k-means (scikit-learn's MiniBatchKMeans,
fixed seed) into ``--k`` clusters (3,000 for the packaged table) of words used alike:
メール, Gmail and アドレス share one; 口座, 送金, 入金, 後払い and 先払い another; LINE and
Slack a third. Every word gets the cluster of its vector. The table keeps the words as the model
looks them up, in NFKC and lower case, and only those MeCab (unidic-lite) gives as one token.

The table is written to ``src/redflag/data/word_clusters.tsv.gz``: a comment line naming the
source, then ``word<TAB>cluster`` sorted by word. A model records the table's SHA-256, so a model
is never scored with a table other than the one it was trained with.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import subprocess
import sys
import tempfile
import unicodedata
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "src" / "redflag" / "data" / "word_clusters.tsv.gz"
PACKAGE = "ja-ginza==5.3.0"
VOCAB = "ja_ginza/ja_ginza-5.3.0/vocab/"


def murmur64a(data: bytes, seed: int = 1) -> int:
    """MurmurHash64A, the hash spaCy keys its vectors by (``spacy.strings.hash_string``)."""
    m, r, mask = 0xC6A4A7935BD1E995, 47, (1 << 64) - 1
    h = (seed ^ (len(data) * m)) & mask
    n = len(data) // 8
    for i in range(n):
        k = int.from_bytes(data[8 * i : 8 * i + 8], "little")
        k = (k * m) & mask
        k ^= k >> r
        k = (k * m) & mask
        h ^= k
        h = (h * m) & mask
    tail = data[8 * n :]
    if tail:
        h ^= int.from_bytes(tail, "little")
        h = (h * m) & mask
    h ^= h >> r
    h = (h * m) & mask
    h ^= h >> r
    return h


def read_vectors(wheel: Path) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The words, the row of each, and the vectors, read from the wheel without spaCy."""
    import msgpack  # a build-time need only

    with zipfile.ZipFile(wheel) as z:
        vectors = np.load(io.BytesIO(z.read(VOCAB + "vectors")))
        key2row = msgpack.unpackb(z.read(VOCAB + "key2row"), strict_map_key=False)
        strings = json.loads(z.read(VOCAB + "strings.json"))
    words: list[str] = []
    rows: list[int] = []
    for s in strings:
        row = key2row.get(murmur64a(s.encode("utf-8")))
        # Tabs and line breaks would break the table; no vector word has them, but be sure.
        if row is not None and s.strip() and not any(c in s for c in "\t\r\n"):
            words.append(s)
            rows.append(int(row))
    return words, np.asarray(rows), np.asarray(vectors, dtype=np.float32)


def clusters(vectors: np.ndarray, k: int) -> np.ndarray:
    from sklearn.cluster import MiniBatchKMeans

    unit = vectors / (np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-9)
    return MiniBatchKMeans(k, random_state=0, batch_size=4096, n_init=3).fit(unit).labels_


def tokenizable(table: dict[str, int]) -> dict[str, int]:
    """The words as the model looks them up: NFKC, lower case, and only those MeCab gives as one
    token (the features are looked up by MeCab's tokens, so no other word would ever be found).

    A word whose folded form is itself in the table keeps that entry's cluster (``LINE`` and
    ``line``: the cluster of ``line``).
    """
    from redflag.tokenize import Tokenizer

    tokenizer = Tokenizer("-Owakati")
    out: dict[str, int] = {}
    for word in sorted(table, key=lambda w: (unicodedata.normalize("NFKC", w).lower() != w, w)):
        key = unicodedata.normalize("NFKC", word).lower()
        if key in out:
            continue
        if tokenizer.surfaces(key) == [key]:
            out[key] = table[word]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--wheel", type=Path, help=f"the {PACKAGE} wheel (default: pip download it)")
    ap.add_argument("--k", type=int, default=3000, help="number of clusters (default 3000)")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel
        if wheel is None:
            subprocess.run(
                [sys.executable, "-m", "pip", "download", PACKAGE, "--no-deps", "-q", "-d", tmp], check=True
            )
            wheel = next(Path(tmp).glob("ja_ginza-*.whl"))
        words, rows, vectors = read_vectors(wheel)
    labels = clusters(vectors, args.k)
    table = tokenizable({w: int(labels[r]) for w, r in zip(words, rows)})
    lines = [
        f"# chiVe word vectors from {PACKAGE} (MIT; chiVe Apache-2.0), {vectors.shape[0]} vectors in "
        f"{args.k} k-means clusters; {len(table)} of {len(words)} words, those MeCab gives whole"
    ]
    lines += [f"{w}\t{c}" for w, c in sorted(table.items())]
    data = ("\n".join(lines) + "\n").encode("utf-8")
    # mtime 0: the same table gives the same file, byte for byte.
    args.out.write_bytes(gzip.compress(data, compresslevel=9, mtime=0))
    print(f"{args.out}: {len(table)} of {len(words)} words in {args.k} clusters, {args.out.stat().st_size} bytes")


if __name__ == "__main__":
    main()
