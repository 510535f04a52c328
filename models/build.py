"""Rebuild the default model shipped with redflag.

    python data/build.py && python models/build.py

Trains on the corpus data/build.py wrote into the package (src/redflag/data/corpus.jsonl.gz) with the shipped rules and a fixed seed, writes the model into the
package (src/redflag/models/default.npz) with its SHA-256 (default.sha256, checked on every
load), and the model card here (models/MODEL_CARD.md, models/model_card.json).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from redflag.card import card_markdown
from redflag.dataset import default_examples
from redflag.training import train

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    examples = default_examples()
    result = train(examples, seed=0, progress=sys.stderr.isatty())
    target = ROOT / "src" / "redflag" / "models" / "default.npz"
    digest = result.model.save(target, record=False)  # the package keeps its hash in default.sha256
    (target.with_suffix(".sha256")).write_text(f"{digest}  default.npz\n", encoding="ascii")
    card = {"sha256": digest, **result.model.meta, "thresholds": result.model.thresholds}
    (ROOT / "models" / "model_card.json").write_text(
        json.dumps(card, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    (ROOT / "models" / "MODEL_CARD.md").write_text(card_markdown(card), encoding="utf-8")
    print(result.validation.format("validation"))
    print(f"default model: {target} sha256 {digest}")


if __name__ == "__main__":
    main()
