"""Stage 7 (reporters) for audits: one module per ``audit --format``.

The registry is :mod:`.base`.
"""
