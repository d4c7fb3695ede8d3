"""``python -m qemu_lint``: same as the ``qemu-lint`` console script."""

from __future__ import annotations

from qemu_lint import console_main

raise SystemExit(console_main())
