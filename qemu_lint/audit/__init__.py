"""Audit stage: a patch series → one check per state → per-patch verdicts.

Modules: :mod:`.series` (the series and its base), :mod:`.patch` (messages
and unified diffs), :mod:`.apply` (the temporary index and object
directory), :mod:`.driver` (:func:`~qemu_lint.audit.driver.run_audit`, one
engine run per state) and
:mod:`.verdicts` (reports → verdicts).  git runs through
:mod:`qemu_lint.discover.git`.  Nothing is imported here, so that the audit
reporters' imports of :mod:`.verdicts` do not pull in the engine.
"""
