"""qemu-lint: a static analyzer for QEMU's C sources.

Pipeline: discover → parse → facts → model → rules → findings → reporters → cli.
"""

from __future__ import annotations

__version__ = "0.1.0"
