"""qemu-lint: a static analyzer for QEMU's C sources.

Pipeline (imports only go from a later stage to an earlier one): the
foundations (errors, source, settings, facts, rule) → discover → frontends →
cache → model → select → rules → findings → engine → audit → report → cli.
"""

from __future__ import annotations

__version__ = "0.1.0"
