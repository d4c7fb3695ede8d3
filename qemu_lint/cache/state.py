"""Stage 3 (cache): the record of one run over a tree, kept for the next one.

Entry points: :class:`TreeState` (pickled whole by
:meth:`~qemu_lint.cache.store.Cache.put_tree`) and :class:`FactsSummary` (what
the report says of the facts behind the recorded results).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from qemu_lint.errors import Problem
from qemu_lint.rule import Diagnostic


@dataclass(frozen=True, slots=True)
class FactsSummary:
    """What the report says of the facts (kept in the cache with the results)."""

    tree_files: int
    parsed_files: int
    parsed_bytes: int
    files_with_errors: int
    error_nodes: int
    skipped_bytes: int
    problems: tuple[Problem, ...]


@dataclass(slots=True)
class TreeState:
    """What one run over a tree saw (plain data, pickled as a whole)."""

    #: path → (stat key, digest of its bytes or None, reason it was skipped or None);
    #: a stat key of None means "do not trust it, read the file again"
    files: dict[str, tuple[tuple[int, int, int, int] | None, str | None, str | None]] = field(
        default_factory=dict
    )
    #: questions asked of the token index → the paths that matched
    answers: dict[tuple[str, str], frozenset[str]] = field(default_factory=dict)
    #: selection mode → the files the selection chose (sorted paths)
    chosen: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: selection mode → the files each round of its closure added, round by
    #: round (each sorted): the order in which their facts were taken
    rounds: dict[str, tuple[tuple[str, ...], ...]] = field(default_factory=dict)
    #: rule id → what the rule yielded on exactly these files
    results: dict[str, tuple[Diagnostic, ...]] = field(default_factory=dict)
    #: the summary of the facts behind ``results``
    summary: FactsSummary | None = None
    #: path → the inline suppressions found in it (files with none are left out);
    #: opaque here, as they are a later stage's type
    #: (:class:`~qemu_lint.findings.suppress.Suppression`)
    suppressions: dict[str, tuple[object, ...]] = field(default_factory=dict)
    #: the other files ``results`` depend on (the build configuration's
    #: ``meson.build``, ``Kconfig`` and ``.mak`` inputs) → digest of their bytes
    inputs: dict[str, str] = field(default_factory=dict)
    #: what the report says of the build configuration: (constructs not
    #: understood, files whose build is uncertain), or None when not recorded
    build_counts: tuple[int, int] | None = None
    #: what the attribution asked of the build configuration of ``inputs``
    #: → its answer (see :class:`qemu_lint.model.reach.BuildAnswers`)
    build_answers: dict[tuple[str, str, str], object] = field(default_factory=dict)
