"""Audit stage: reports of successive states → per-patch verdicts.

Entry points: :func:`compare` (the base report and one :class:`StateRun` per
patch → an :class:`AuditResult`), :func:`exit_status` and :func:`locate` (the
hunk line of a patch that a finding points at).  Pure: what reporters of an
audit see is an :class:`AuditResult`, nothing else.

Findings are matched across states by ``(rule, file, fingerprint)``; the
fingerprint ignores line numbers, so a patch that only shifts a finding's
line neither introduces nor fixes it.  The file is followed through the
series' renames (git's ``rename from``/``rename to``), so a patch that
only renames a file neither introduces nor fixes its findings.  A finding a patch introduces is
*transient* when a later patch of the series removes it again: the tip is
clean of it, but the commits in between are not (a bisection hazard).  A
finding a patch introduces that the base already had (an earlier patch fixed
it, this one brings it back, as a revert does) *re-introduces* it: the series
does not add it to the base, so it does not fail the audit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from qemu_lint.audit.patch import Hunk, HunkLine, Patch
from qemu_lint.findings import Finding, Key, Report

#: Verdicts, from worst to best; a patch gets the first that applies.
INTRODUCES = "introduces"
REINTRODUCES = "reintroduces"
TRANSIENT = "transient"
FIXES = "fixes"
CLEAN = "clean"
DOES_NOT_APPLY = "does-not-apply"
NOT_CHECKED = "not-checked"
#: the state before or after the patch could not be analysed in full (a rule
#: crashed, a file it needed was left out): no verdict can be trusted
CANNOT_JUDGE = "cannot-judge"


@dataclass(frozen=True, slots=True)
class Location:
    """Where in a patch a finding points: a hunk, and one line of it."""

    file: str
    hunk: Hunk
    line: HunkLine
    #: the hunk covers the finding's own line (not only a file or step of its path)
    is_exact: bool


@dataclass(frozen=True, slots=True)
class Change:
    """A finding a patch introduced or fixed."""

    finding: Finding
    #: introduced: the patch that removes it later (None: still there at the
    #: tip); fixed: the patch that had introduced it (None: in the base)
    other: int | None
    #: where the patch touches it
    location: Location | None = None
    #: introduced: the base had it too (an earlier patch had fixed it)
    in_base: bool = False


@dataclass(frozen=True, slots=True)
class StateRun:
    """The state after one patch, as the driver measured it."""

    patch: Patch
    #: the analysis of the tree with the patch applied (None: it did not apply)
    report: Report | None
    reason: str | None = None
    #: the commit the patch became (the one ``git am`` would have made)
    applied_as: str | None = None
    seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class PatchVerdict:
    patch: Patch
    applied: bool
    verdict: str
    reason: str | None
    introduced: tuple[Change, ...]
    fixed: tuple[Change, ...]
    applied_as: str | None
    seconds: float

    @property
    def transient(self) -> tuple[Change, ...]:
        return tuple(c for c in self.introduced if c.other is not None)


@dataclass(frozen=True, slots=True)
class AuditResult:
    label: str
    #: the user's QEMU root (finding paths are relative to it)
    root: str
    base: str
    base_source: str
    patches: tuple[PatchVerdict, ...]
    #: findings of the last state reached (the tip when every patch applied)
    final: tuple[Finding, ...]
    #: the analysis of that state (for SARIF/GitLab), its root the user's
    final_report: Report
    #: final state versus base
    new_at_tip: tuple[Finding, ...]
    gone_at_tip: tuple[Finding, ...]
    allow_transient: bool
    is_stdin: bool
    base_seconds: float
    cover_subject: str | None = None

    @property
    def is_complete(self) -> bool:
        return all(p.applied for p in self.patches)

    @property
    def failed(self) -> PatchVerdict | None:
        return next((p for p in self.patches if p.verdict == DOES_NOT_APPLY), None)

    @property
    def checked(self) -> int:
        return sum(1 for p in self.patches if p.applied)


def _place(f: Finding) -> tuple[str, int, int, str, str]:
    return (f.file, f.line, f.column, f.rule, f.fingerprint)


def _sorted(fs: Sequence[Finding]) -> tuple[Finding, ...]:
    return tuple(sorted(fs, key=_place))


def _in_order(state: Mapping[Key, Finding], keys: Iterable[Key]) -> list[Key]:
    """``keys`` in the order of their findings (see :func:`_sorted`)."""
    return sorted(keys, key=lambda x: _place(state[x]))


def _nearest(hunk: Hunk, line: int, side: str) -> HunkLine:
    """The changed line of ``hunk`` at ``line`` (or the nearest changed one)."""
    changed = [hl for hl in hunk.lines if hl.kind in ("+", "-")] or list(hunk.lines)

    def number(hl: HunkLine) -> int:
        n = hl.new if side == "new" else hl.old
        if n is None:  # a line of the other side: place it by its neighbours
            n = (hl.old if side == "new" else hl.new) or 0
            n += (hunk.new_start - hunk.old_start) * (1 if side == "new" else -1)
        return n

    exact = [hl for hl in changed if (hl.new if side == "new" else hl.old) == line]
    if exact:
        return exact[0]
    return min(changed, key=lambda hl: (abs(number(hl) - line), hl.at))


def locate(patch: Patch, finding: Finding, side: str) -> Location | None:
    """The hunk of ``patch`` that touches ``finding``, and the line within it.

    First a hunk covering the finding's line, then a hunk covering a step of
    its evidence path, then the hunk nearest to its line in its file, then
    the hunk nearest to a step in a file of its path.

    :param side: ``new`` for a finding of the state after the patch
        (introduced), ``old`` for one of the state before (fixed)
    """
    places = [(finding.file, finding.line)] + [(s.file, s.line) for s in reversed(finding.path)]

    def rng(h: Hunk) -> tuple[int, int]:
        if side == "new":
            return h.new_start, h.new_start + max(h.new_count, 1) - 1
        return h.old_start, h.old_start + max(h.old_count, 1) - 1

    def hunks_of(path: str) -> list[Hunk]:
        out: list[Hunk] = []
        for fd in patch.files:
            name = fd.new_path if side == "new" else fd.old_path
            if name == path:
                out.extend(fd.hunks)
        return out

    for exact_only in (True, False):
        for i, (path, line) in enumerate(places):
            hunks = hunks_of(path)
            if not hunks:
                continue
            if exact_only:
                inside = [h for h in hunks if rng(h)[0] <= line <= rng(h)[1]]
                if inside:
                    return Location(path, inside[0], _nearest(inside[0], line, side), i == 0)
                continue

            def distance(h: Hunk, line: int = line) -> int:
                lo, hi = rng(h)
                return 0 if lo <= line <= hi else min(abs(lo - line), abs(hi - line))

            best = min(hunks, key=distance)
            return Location(path, best, _nearest(best, line, side), False)
    return None


def _verdict(intro: Sequence[Change], fixed: Sequence[Change]) -> str:
    if any(c.other is None and not c.in_base for c in intro):
        return INTRODUCES
    if any(c.other is None for c in intro):
        return REINTRODUCES
    if intro:
        return TRANSIENT
    return FIXES if fixed else CLEAN


def _doubt(reports: Sequence[Report], k: int) -> tuple[str | None, bool]:
    """Why states ``k - 1`` → ``k`` cannot be compared (None: they can), and
    whether that is a crash."""
    for where, r in (("after the patch", reports[k]), ("before it", reports[k - 1])):
        bad = r.distrust
        if bad:
            more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
            return f"{where}, {bad[0]}{more}", bad[0].untrusted == "crash"
    return None, False


def _applied_verdicts(
    states: Sequence[Mapping[Key, Finding]],
    applied: Sequence[StateRun],
    reports: Sequence[Report],
) -> list[PatchVerdict]:
    """The verdicts of the patches that applied; ``states[k]`` is the state
    after ``applied[k - 1]`` (``states[0]`` the base)."""

    def fixed_later(k: int, x: Key) -> int | None:
        for j in range(k + 1, len(states)):
            if x not in states[j]:
                return applied[j - 1].patch.index
        return None

    def introduced_by(k: int, x: Key) -> int | None:
        i = k - 1
        while i >= 0 and x in states[i]:
            i -= 1
        return None if i < 0 else applied[i].patch.index

    verdicts: list[PatchVerdict] = []
    for k, r in enumerate(applied, 1):
        before, after = states[k - 1], states[k]
        intro = tuple(
            Change(after[x], fixed_later(k, x), locate(r.patch, after[x], "new"), x in states[0])
            for x in _in_order(after, after.keys() - before.keys())
        )
        fixed = tuple(
            Change(before[x], introduced_by(k - 1, x), locate(r.patch, before[x], "old"))
            for x in _in_order(before, before.keys() - after.keys())
        )
        doubt, _ = _doubt(reports, k)
        verdict = _verdict(intro, fixed) if doubt is None else CANNOT_JUDGE
        verdicts.append(
            PatchVerdict(r.patch, True, verdict, doubt, intro, fixed, r.applied_as, r.seconds)
        )
    return verdicts


def _unapplied_verdicts(runs: Sequence[StateRun], patches: Sequence[Patch]) -> list[PatchVerdict]:
    """The patch that did not apply, if any, and the patches after it."""
    failed = next((r for r in runs if r.report is None), None)
    if failed is None:
        return []
    verdicts = [
        PatchVerdict(
            failed.patch, False, DOES_NOT_APPLY, failed.reason, (), (), None, failed.seconds
        )
    ]
    for p in patches[failed.patch.index :]:
        why = f"patch {failed.patch.label} did not apply"
        verdicts.append(PatchVerdict(p, False, NOT_CHECKED, why, (), (), None, 0.0))
    return verdicts


class _Names:
    """What each file of a state was called in the base, through the renames
    of the patches applied so far.  A name a rename left empty and a later
    patch fills with a new file is another file: it is named after that
    patch, so its findings are not the renamed file's."""

    def __init__(self) -> None:
        self._back: dict[str, str] = {}
        self._vacated: dict[str, int] = {}

    def of(self, path: str) -> str:
        got = self._back.get(path)
        if got is not None:
            return got
        k = self._vacated.get(path)
        return path if k is None else f"{path}\0{k}"

    def rename(self, patch: Patch) -> None:
        moves = [(f.old_path, f.new_path) for f in patch.files if f.renamed]
        moved = {new: self.of(old) for old, new in moves if old and new and old != new}
        for old, new in moves:
            if old and new and old != new:
                self._back.pop(old, None)
                self._vacated[old] = patch.index
        self._back.update(moved)

    def key(self, f: Finding) -> Key:
        """The identity of ``f`` across the series' states (see :func:`~qemu_lint.findings.key`)."""
        return (f.rule, self.of(f.file), f.site or f.fingerprint)


def compare(
    label: str,
    root: str,
    base: str,
    base_source: str,
    base_report: Report,
    runs: Sequence[StateRun],
    patches: Sequence[Patch],
    allow_transient: bool = False,
    is_stdin: bool = False,
    base_seconds: float = 0.0,
    cover_subject: str | None = None,
) -> AuditResult:
    """Credit every finding to the patch that introduced or fixed it.

    :param runs: the states after patches 1…k, in order; the last may be a
        patch that did not apply (``report`` None)
    :param patches: the whole series (patches after a failed one are
        reported as not checked)
    """
    names = _Names()
    states: list[Mapping[Key, Finding]] = [{names.key(f): f for f in base_report.findings}]
    reports = [base_report]
    applied = [r for r in runs if r.report is not None]
    for r in applied:
        assert r.report is not None
        names.rename(r.patch)
        states.append({names.key(f): f for f in r.report.findings})
        reports.append(r.report)
    verdicts = _applied_verdicts(states, applied, reports)
    verdicts += _unapplied_verdicts(runs, patches)
    last = applied[-1].report if applied else base_report
    assert last is not None
    final, first = states[-1], states[0]
    return AuditResult(
        label=label,
        root=root,
        base=base,
        base_source=base_source,
        patches=tuple(verdicts),
        final=_sorted(list(final.values())),
        final_report=last,
        new_at_tip=_sorted([final[x] for x in final.keys() - first.keys()]),
        gone_at_tip=_sorted([first[x] for x in first.keys() - final.keys()]),
        allow_transient=allow_transient,
        is_stdin=is_stdin,
        base_seconds=base_seconds,
        cover_subject=cover_subject,
    )


def exit_status(result: AuditResult) -> int:
    """2 when a patch did not apply, or could not be judged (3 when a rule
    crashed); 1 when the series introduces a finding still there at its tip,
    or a transient one (unless allowed); else 0.  Findings the base has
    (re-introduced) do not count."""
    if not result.is_complete:
        return 2
    judged = [p for p in result.patches if p.verdict == CANNOT_JUDGE]
    if judged:
        crash = any("crashed" in (p.reason or "") for p in judged)
        return 3 if crash else 2
    for p in result.patches:
        for c in p.introduced:
            if c.in_base:
                continue
            if c.other is None or not result.allow_transient:
                return 1
    return 0
