"""Platform profiles: each platform's rule on moving the conversation outside, as data.

The default model learns the generic rule of the annotation guide: a move to an outside tool is
acceptable only when the message states both that escrow is funded and that the outside-contact
application is approved. Platforms differ (``data/platforms.toml`` cites each one's help pages):

* ``crowdworks``: an approved サービス外連絡申請 is what allows outside contact;
* ``lancers``: outside tools are allowed after escrow; contact details go through 連絡先公開申請;
* ``coconala``: never, at any stage.

A profile changes only the ``off_platform`` score, and only in messages that state some condition:

* the profile's conditions are all stated, but the generic ones are not (e.g. Lancers, escrow
  only): the model is asked the counterfactual question, what it would say had the message also
  stated the missing generic conditions (their ``statement`` is put before the message), and the
  lower of the two scores is kept;
* some condition is stated but the profile's are not all there (or the platform never allows a
  move): the model is asked what it would say without the stated conditions (their words are
  blanked), and the higher score is kept, so that a stated condition the platform does not
  accept cannot excuse the move.

Both questions go to the same model with the same features, so a profile never needs its own
training data; a message that states nothing is scored exactly as under ``generic``.
"""

from __future__ import annotations

import contextlib
import logging
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal

import regex

from .rules import REGEX_TIMEOUT, RuleError, Twin, _trie, _Union, timeout_for

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

__all__ = ["PLATFORMS", "Condition", "Platform", "get_platform", "load_platforms"]

log = logging.getLogger(__name__)

OutsideContact = Literal["never", "conditional"]


# Set operations of regex V1 character classes ([[a-z]--[aeiou]]).
_SET_OPERATIONS = ("[[", "--", "&&", "||", "~~")


@dataclass(frozen=True)
class Condition:
    """A statement that makes a move outside acceptable on some platform (e.g. escrow funded)."""

    name: str
    pattern: regex.Pattern[str]
    statement: str
    found_ja: str
    found_en: str
    missing_ja: str
    missing_en: str
    #: Whether the condition may be stated at all (the words its pattern must begin with).
    _occurs: _Union | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        source = self.pattern.pattern
        if any(op in source for op in _SET_OPERATIONS):
            return  # nested sets of regex V1: not read by the plain splitting of a _Union
        with contextlib.suppress(regex.error, re.error):
            occurs = _Union([Twin(source)], f"condition {self.name}", prefilter=True)
            # Kept only when it looks for plain words alone, which V0 and V1 read alike.
            if occurs.words is not None and not occurs.twins and not occurs.alone:
                object.__setattr__(self, "_occurs", occurs)

    def search(self, text: str) -> tuple[int, int] | None:
        if self._occurs is not None and not self._occurs.matches(text):
            return None
        try:
            m = self.pattern.search(text, timeout=timeout_for(text))
        except TimeoutError:  # like a rule: skipped and logged, never a hang
            log.warning("platform condition %s timed out after %ss and was skipped", self.name, REGEX_TIMEOUT)
            return None
        return m.span() if m else None


@dataclass(frozen=True)
class Platform:
    """One platform's rule on outside contact (see ``data/platforms.toml``)."""

    name: str
    display: str
    outside_contact: OutsideContact
    requires: tuple[str, ...]
    requires_for_contact_details: tuple[str, ...]
    advice_ja: str
    advice_en: str
    sources: tuple[str, ...]
    conditions: Mapping[str, Condition]
    #: The words of every condition in one search: where none occurs, no condition is stated
    #: (None when some condition cannot be looked for by its words).
    _gate: re.Pattern[str] | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        unions = [c._occurs for c in self.conditions.values()]
        if unions and all(u is not None for u in unions):
            words = set().union(*(u.wordset for u in unions if u is not None))
            object.__setattr__(self, "_gate", re.compile(_trie(words)))

    def found(
        self, text: str, negated: Callable[[str, int, int], bool] | None = None
    ) -> dict[str, tuple[int, int]]:
        """Every condition of the profile file stated in ``text`` (normalized), with its span.

        ``negated(text, start, end)`` drops statements a refusal follows (仮払いはまだ完了していません).
        """
        out: dict[str, tuple[int, int]] = {}
        if self._gate is not None and self._gate.search(text) is None:
            return out
        for name, cond in self.conditions.items():
            span = cond.search(text)
            if span is not None and not (negated is not None and negated(text, *span)):
                out[name] = span
        return out

    def required(self, contact_details: bool) -> tuple[str, ...]:
        return self.requires_for_contact_details if contact_details else self.requires

    def allows(self, found: Mapping[str, object], contact_details: bool) -> bool:
        """Whether the stated conditions make a move outside acceptable on this platform."""
        if self.outside_contact == "never":
            return False
        return all(name in found for name in self.required(contact_details))


def _read(path: str | Path | None) -> tuple[str, str]:
    if path is None:
        root = resources.files("redflag").joinpath("data", "platforms.toml")
        return root.read_text(encoding="utf-8"), "redflag:data/platforms.toml"
    return Path(path).read_text(encoding="utf-8"), str(path)


def load_platforms(path: str | Path | None = None) -> dict[str, Platform]:
    """Read platform profiles from a TOML file (default: the one shipped with redflag)."""
    text, source = _read(path)
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RuleError(f"{source}: not valid TOML: {exc}") from exc
    conditions: dict[str, Condition] = {}
    for name, item in doc.get("condition", {}).items():
        where = f"{source}: [condition.{name}]"
        missing = {"pattern", "statement", "found_ja", "found_en", "missing_ja", "missing_en"} - set(item)
        if missing:
            raise RuleError(f"{where}: missing field(s) {sorted(missing)}")
        try:
            pattern = regex.compile(item["pattern"], regex.V1)
        except regex.error as exc:
            raise RuleError(f"{where}: bad pattern: {exc}") from exc
        fields = {k: str(item[k]) for k in ("statement", "found_ja", "found_en", "missing_ja", "missing_en")}
        conditions[name] = Condition(name=name, pattern=pattern, **fields)
    platforms: dict[str, Platform] = {}
    for name, item in doc.get("platform", {}).items():
        where = f"{source}: [platform.{name}]"
        kind = item.get("outside_contact")
        if kind not in ("never", "conditional"):
            raise RuleError(f"{where}: outside_contact must be 'never' or 'conditional', got {kind!r}")
        requires = tuple(item.get("requires", ()))
        for_contact = tuple(item.get("requires_for_contact_details", requires))
        unknown = sorted(set(requires + for_contact) - set(conditions))
        if unknown:
            raise RuleError(f"{where}: unknown condition(s) {unknown}; defined: {sorted(conditions)}")
        if kind == "conditional" and not requires:
            raise RuleError(f"{where}: a conditional platform needs at least one required condition")
        platforms[name] = Platform(
            name=name,
            display=str(item.get("display", name)),
            outside_contact=kind,
            requires=requires,
            requires_for_contact_details=for_contact,
            advice_ja=str(item.get("advice_ja", "")),
            advice_en=str(item.get("advice_en", "")),
            sources=tuple(item.get("sources", ())),
            conditions=conditions,
        )
    if "generic" not in platforms:
        raise RuleError(f"{source}: a [platform.generic] profile is required")
    return platforms


@lru_cache(maxsize=1)
def _shipped() -> dict[str, Platform]:
    return load_platforms()


#: Names of the shipped profiles.
PLATFORMS: tuple[str, ...] = tuple(_shipped())


def get_platform(platform: str | Platform) -> Platform:
    """A shipped profile by name (``generic``, ``crowdworks``, ``lancers``, ``coconala``), or ``platform`` itself."""
    if isinstance(platform, Platform):
        return platform
    profiles = _shipped()
    try:
        return profiles[platform]
    except KeyError:
        raise ValueError(f"unknown platform {platform!r}; known: {', '.join(profiles)}") from None
