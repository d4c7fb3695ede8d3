"""Stage 7 (reporters) for audits: one module per ``audit --format``; the registry is :mod:`.base`."""
