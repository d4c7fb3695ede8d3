"""Stage 3 (cache): content-keyed facts, the typed record of a tree, and the run's session.

Modules: :mod:`~qemu_lint.cache.store` (the cache folder: facts by content,
tree records, atomic writes), :mod:`~qemu_lint.cache.state` (what a run
records: :class:`TreeState`, :class:`FactsSummary`) and
:mod:`~qemu_lint.cache.session` (one run over a tree: discovery, file states,
facts per file, what to record for the next run).
"""

from __future__ import annotations

from qemu_lint.cache.state import FactsSummary, TreeState
from qemu_lint.cache.store import CACHEDIR_TAG, OWN_NAMES, Cache, code_digest, digest

__all__ = [
    "CACHEDIR_TAG",
    "OWN_NAMES",
    "Cache",
    "FactsSummary",
    "TreeState",
    "code_digest",
    "digest",
]
