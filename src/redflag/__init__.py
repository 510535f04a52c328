"""redflag: flag client messages that steer a freelancer into known traps.

>>> import redflag
>>> a = redflag.score("仮払い前ですが、先に作業を始めてもらえますか？")
>>> a.labels
('escrow_bypass',)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from importlib import metadata

from .labels import LABEL_INFO, LABELS
from .model import ModelFormatError
from .normalize import Normalized, normalize
from .platforms import PLATFORMS
from .results import Assessment, Evidence
from .rules import RuleError, load_rules
from .scorer import Scorer, default_scorer
from .thread import Conversation, ThreadAssessment

try:
    __version__ = metadata.version("redflag")
except metadata.PackageNotFoundError:  # running from a source tree
    __version__ = "0.0.0"

__all__ = [
    "LABELS",
    "LABEL_INFO",
    "PLATFORMS",
    "Assessment",
    "Conversation",
    "Evidence",
    "ModelFormatError",
    "Normalized",
    "RuleError",
    "Scorer",
    "ThreadAssessment",
    "__version__",
    "load_rules",
    "normalize",
    "score",
    "score_frame",
    "score_thread",
    "train",
]


def score(
    text: str,
    *,
    allow: Sequence[str] = (),
    explain: bool = True,
    mask_pii: bool = False,
    platform: str = "generic",
) -> Assessment:
    """Assess one message with the default model (loaded once per process)."""
    return default_scorer().score(text, allow=allow, explain=explain, mask_pii=mask_pii, platform=platform)


def score_thread(messages: Iterable[str], *, platform: str = "generic", allow: Sequence[str] = ()) -> ThreadAssessment:
    """Assess a conversation, message by message and as a whole, with the default model."""
    return default_scorer().score_thread(messages, platform=platform, allow=allow)


def train(examples, **kwargs):  # type: ignore[no-untyped-def]
    """Train a model; see :func:`redflag.training.train`. Returns a ``TrainResult``."""
    from .training import train as _train

    return _train(examples, **kwargs)


def score_frame(df, text_column="text", **kwargs):  # type: ignore[no-untyped-def]
    """Score a pandas DataFrame column; see :func:`redflag.frame.score_frame` (needs pandas)."""
    from .frame import score_frame as _score_frame

    return _score_frame(df, text_column, **kwargs)
