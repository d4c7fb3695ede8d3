"""Errors shared by all stages (QAPI-style small hierarchy).

A :class:`LintError` stops the run with exit status 2 and a one-line message
naming the file and the cause; anything else escaping is an internal error.
A :class:`Problem` is what does not stop the run but limits trust in it (a
skipped file, a rule crash): every stage may produce one, the report lists them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """A limit on the run's trustworthiness, reported beside the findings."""

    file: str
    message: str
    level: str = "warning"
    #: why the run cannot say "clean" because of it: "" (it can), ``"input"``
    #: (a file the analysis needed was not analysed: exit 2) or ``"crash"``
    #: (a rule crashed: exit 3)
    untrusted: str = ""

    def __str__(self) -> str:
        return f"{self.file}: {self.message}" if self.file else self.message


class LintError(Exception):
    """Base class: a run that cannot be trusted (exit status 2)."""

    def __init__(self, message: str, path: str | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.message = message

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class ConfigError(LintError):
    """Bad configuration file, key or value."""


class InputError(LintError):
    """Bad input: not a QEMU tree, missing path, unreadable patch…"""


class UsageError(LintError):
    """Bad command-line usage."""
