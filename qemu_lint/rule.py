"""Stage 5 (rules): what a rule is and what it yields.

Entry points: :class:`Rule` (id, severity, summary, docs, options, check),
:class:`Diagnostic` (what ``check()`` yields; the engine turns it into a
:class:`~qemu_lint.findings.Finding`).  Rules see only the model, never parser
objects.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from qemu_lint.source import Span


class Severity(enum.Enum):
    NOTE = "note"
    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class PathStep:
    """One step of the evidence path: where, in which function, and what happens."""

    file: str
    line: int
    function: str
    note: str


@dataclass(frozen=True, slots=True)
class Diagnostic:
    span: Span
    message: str
    function: str
    kind: str
    archs: tuple[str, ...] = ()
    hook: str | None = None
    path: tuple[PathStep, ...] = ()
    #: per architecture: does it implement the persistence hook?
    arch_hooks: Mapping[str, bool] = field(default_factory=dict)
    #: text that identifies the site independently of its line (fingerprint)
    key: str = ""
    #: secondary places that explain the finding (SARIF ``relatedLocations``)
    related: tuple[PathStep, ...] = ()


@dataclass(frozen=True, slots=True)
class RuleOptions:
    """Base class of per-rule options (frozen; validated by config)."""


@dataclass(frozen=True, slots=True)
class Seeds:
    """The files a rule needs before the model can say what else it lacks:
    the file selection (:mod:`qemu_lint.select`) starts from them."""

    #: identifiers: every file mentioning one (whole word)
    words: tuple[str, ...] = ()
    #: type names: the files defining one
    types: tuple[str, ...] = ()
    #: identifiers looked for, for each required architecture
    #: (``required-archs``), only in the files of ``target/<arch>/``
    arch_words: tuple[str, ...] = ()
    #: also the configured persistence hooks (``hooks``): the files mentioning
    #: their field or function name, and those defining their tables' types
    hooks: bool = False


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    severity: Severity
    summary: str
    doc: str
    options: type[RuleOptions]
    check: Callable[[Any, Any], Iterator[Diagnostic]]
    #: keywords for SARIF ``properties.tags`` (GitHub shows and filters by them)
    tags: tuple[str, ...] = ()
    #: how often a finding is right: ``very-high``, ``high``, ``medium`` or ``low``
    precision: str = "high"
    #: the files the rule needs from the start (see :class:`Seeds`)
    seeds: Seeds = Seeds()
