"""Stage 7 (reporters): render a :class:`~qemu_lint.findings.Report` to a stream.

Entry point: :data:`qemu_lint.report.registry.REPORTERS`.
"""
