"""Stage 7 (reporters) for audits: one module per ``audit --format``; registry: :mod:`.base`."""
