"""An inline suppression that silences nothing.

## What it does
Reports every `qemu-lint: allow RULE -- reason` comment (see
`analyzer/suppress.py`) that does not do its job:

- a rule it names had no finding on the lines it covers (the comment's own
  lines and the line after it): the suppression is **unused**, usually
  because the code was fixed or moved;
- it gives no reason (`-- why`): such a suppression silences nothing;
- it names a rule that does not exist (a typo, or a rule that was renamed).

A suppression naming a rule that did not run (left out by `--select` or
`--ignore`, or one that crashed) is not judged: its finding could not have
been there. This rule's findings are produced by the engine's suppression
stage, after every other rule has run; `check()` itself sees only the model
and yields nothing.

## Why is this bad?
A suppression is an exception granted to one site, with its reason. When the
site changes, a stale suppression stays behind and would silently swallow the
next, unrelated finding on that line. One without a reason cannot be
reviewed, and one naming an unknown rule silences nothing while looking as if
it did.

## Example
```c
    /* qemu-lint: allow acpi-cpu-persistence */
    cdev->cpu = NULL;                     /* no reason: still reported */

    cdev->is_inserting = false;  /* qemu-lint: allow acpi-cpu-persistance -- typo */
```

## Use instead
```c
    /* qemu-lint: allow acpi-cpu-persistence -- this board never unplugs vCPUs */
    cdev->cpu = NULL;
```
and delete suppressions that no longer silence anything.

## Options
None. Leave the rule out with `--ignore unused-suppression` (or `ignore` in
the configuration file); a suppression naming `unused-suppression` silences
this rule's findings on the lines it covers, except its own.

## Known limitations
- Only the `allow` form exists: there is no region (`begin`/`end`) or
  whole-file form, and no commit-message trailer for patch audits.
- A suppression is judged against the findings of the run: with files named
  on the command line (as pre-commit passes them), unused suppressions are
  reported only in those files, but every finding of the tree still counts
  as a use.

## References
- ruff's `RUF100` (unused `noqa` directive) and clang-tidy's `NOLINT`
  comments, which this rule and the suppression syntax follow.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from qemu_lint.rule import Diagnostic, Rule, RuleOptions, Severity

if TYPE_CHECKING:
    from qemu_lint.model import Model


@dataclass(frozen=True, slots=True)
class Options(RuleOptions):
    pass


def check(model: Model, opts: Options) -> Iterator[Diagnostic]:
    """Nothing from the model: the engine's suppression stage yields this rule's
    findings once the other rules have run (see :mod:`qemu_lint.findings.suppress`)."""
    return iter(())


RULE = Rule(
    id="unused-suppression",
    severity=Severity.WARNING,
    summary="inline suppression that silences nothing (unused, no reason, or unknown rule)",
    doc=__doc__ or "",
    options=Options,
    check=check,
)
