"""Stage 7 (reporters): the check formats' registry.

Entry point: :data:`REPORTERS` (format name → reporter), read by the CLI for
its ``--format`` choices and to render.  A reporter's module is imported
when it is first looked up, not when the registry is: a run imports only
the reporter it renders with (rich, for the text formats, costs about
50 ms of start-up; see docs/performance.md).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from typing import Generic, TypeVar

from qemu_lint.report.base import Reporter

T = TypeVar("T")


class LazyRegistry(Mapping[str, T], Generic[T]):
    """Format name → reporter module, each imported on first lookup.

    :param modules: format name → the reporter's module name, in order
    """

    def __init__(self, modules: Mapping[str, str]) -> None:
        self._modules = dict(modules)

    def __getitem__(self, name: str) -> T:
        got: T = importlib.import_module(self._modules[name])  # type: ignore[assignment]
        return got

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __len__(self) -> int:
        return len(self._modules)


#: Built explicitly: adding a format means adding a line here.
REPORTERS: Mapping[str, Reporter] = LazyRegistry(
    {
        "text": "qemu_lint.report.text",
        "json": "qemu_lint.report.json",
        "sarif": "qemu_lint.report.sarif",
        "gitlab": "qemu_lint.report.gitlab",
        "github": "qemu_lint.report.github",
    }
)
