"""Stage 5 (rules): what a rule is and what it yields.

Entry points: :class:`Rule` (id, severity, summary, docs, options, check),
:class:`Diagnostic` (what ``check()`` yields; the engine turns it into a
:class:`~qemu_lint.findings.Finding`), :class:`Properties` (the rule-specific
facts a diagnostic carries, typed), :class:`Fix` (the edit it proposes for
``check --fix``) and :class:`RuleOptions` (a rule's options, each declared
with its configuration key).  Rules see only the model, never
parser objects.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from qemu_lint.settings import Setting
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

    @property
    def text(self) -> str:
        """The note, with the function it happens in: ``note (in function)``."""
        return f"{self.note} (in {self.function})" if self.function else self.note


@dataclass(frozen=True, slots=True)
class Properties:
    """The rule-specific facts of a diagnostic, filled by the rule.

    Reporters render them without interpreting them: the machine formats as
    fields (JSON ``archs``, ``hook``, ``arch_implements_hook``; SARIF
    ``properties``), the text formats as the note :meth:`notes` words.
    """

    #: the architectures the site concerns (those whose guests can reach it)
    archs: tuple[str, ...] = ()
    #: the persistence hook that counts for the site, if the tree declares one
    hook: str | None = None
    #: per architecture: does it implement the persistence hook? (absent: not asked)
    arch_hooks: Mapping[str, bool] = field(default_factory=dict)
    #: more notes at the site, worded by the rule (what the one-line message
    #: leaves out: the hooks looked for, why no architecture reaches it)
    site_notes: tuple[str, ...] = ()
    #: every persistence-hook design looked for (``Struct::member`` or a
    #: function name), for reporters that must find the hook's declaration
    #: in a patch (``audit --format email``)
    hooks: tuple[str, ...] = ()

    def notes(self) -> tuple[str, ...]:
        """The notes at the site: ``architectures: i386 (hook not implemented), …``,
        then :attr:`site_notes`."""
        if not self.archs:
            return self.site_notes
        parts = []
        for arch in self.archs:
            has_hook = self.arch_hooks.get(arch)
            if has_hook is None:
                parts.append(arch)
            else:
                state = "implements the hook" if has_hook else "hook not implemented"
                parts.append(f"{arch} ({state})")
        return ("architectures: " + ", ".join(parts), *self.site_notes)


@dataclass(frozen=True, slots=True)
class Fix:
    """What a rule proposes to change at a site, parser-free (``check --fix``).

    The rule says which statement and which guard; the fix stage
    (:mod:`qemu_lint.fix`) reads the file, builds the edit, re-indents it and
    checks that the result parses.  Exactly one of :attr:`guard`,
    :attr:`early_return` and :attr:`refusal` is set.
    """

    #: the whole statement to guard (from its first character to its ``;``)
    span: Span | None = None
    #: wrap the statement in ``if (<guard>) { … }``
    guard: str = ""
    #: insert ``if (<early_return>) { return; }`` before the statement
    early_return: str = ""
    #: the persistence-hook design the guard consults
    hook: str = ""
    #: why no edit is proposed (one short clause: "no persistence hook is declared")
    refusal: str = ""
    #: a function the guard calls that has no prototype before the site: its
    #: definition's head (from its first character to its body's ``{``), whose
    #: text, ended by ``;``, goes before line :attr:`declare_at`
    declare: Span | None = None
    #: the first line of the function holding the site (where the prototype goes)
    declare_at: int = 0


@dataclass(frozen=True, slots=True)
class Diagnostic:
    span: Span
    message: str
    function: str
    kind: str
    path: tuple[PathStep, ...] = ()
    #: text that identifies the site independently of its line (fingerprint)
    key: str = ""
    #: secondary places that explain the finding (SARIF ``relatedLocations``)
    related: tuple[PathStep, ...] = ()
    #: the rule-specific facts of the site (architectures, hook…)
    properties: Properties = field(default_factory=Properties)
    #: the edit the rule proposes for ``check --fix`` (None: the rule has no fix)
    fix: Fix | None = None


@dataclass(frozen=True, slots=True)
class RuleOptions:
    """Base class of per-rule options (frozen).

    Each field takes the configuration setting of the same name (``required_archs``
    ← ``required-archs``): the rule declares in :attr:`settings` those that are
    its own, the others (``hooks``) are declared by the stage that owns them.
    """

    #: the configuration keys this rule owns (their default is the field's)
    settings: ClassVar[tuple[Setting[Any], ...]] = ()


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
    #: runs when ``select`` is empty; False: opt-in, it runs only when
    #: ``select`` names it (as ruff's preview rules)
    default_enabled: bool = True
