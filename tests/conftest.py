from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
CASES = Path(__file__).resolve().parent / "cases"
SHARED = ROOT.parent / "shared"


def load_cases(name: str) -> list[dict[str, Any]]:
    """Rows of tests/cases/NAME.jsonl (blank lines and // comments skipped)."""
    rows = []
    for line in (CASES / name).read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("//"):
            rows.append(json.loads(line))
    return rows


@pytest.fixture(scope="session")
def scorer():
    from redflag import Scorer

    return Scorer.load()


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT
