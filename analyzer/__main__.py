"""``python -m analyzer``: same as the ``qemu-lint`` console script."""

from __future__ import annotations

from analyzer.cli import main

raise SystemExit(main())
