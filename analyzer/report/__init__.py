"""Stage 7 (reporters): render a :class:`~analyzer.findings.Report` to a stream.

Entry point: :data:`analyzer.report.base.REPORTERS`.
"""
