"""End-to-end golden files: the whole pipeline over ``samples/trees/demo``.

Pins the exact text, JSON, SARIF, GitLab and GitHub output a user sees for the
README's demo.  What depends on where the checkout lies or on the clock is
normalised: the run's ``seconds``, and the absolute ``root`` (``<root>`` in text
and JSON; ``/ROOT`` in SARIF, whose ``%SRCROOT%`` must be an absolute
``file://`` URI).  Regenerate with ``QEMU_TEST_REGENERATE=1``.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
from pathlib import Path

import pytest

from qemu_lint.engine import run
from qemu_lint.findings import Report
from qemu_lint.report import github as github_report
from qemu_lint.report import gitlab as gitlab_report
from qemu_lint.report import json as json_report
from qemu_lint.report import sarif as sarif_report
from qemu_lint.report import text as text_report
from qemu_lint.report.base import RenderOptions
from qemu_lint.rules import default_config
from tests import sarif_schema
from tests.conftest import SAMPLES

GOLDEN = Path(__file__).parent / "golden"


@pytest.fixture(scope="module")
def report() -> Report:
    r = run(default_config(root=str(SAMPLES / "trees" / "demo"), jobs=1, strict=True))
    return dataclasses.replace(r, root="<root>", stats=dataclasses.replace(r.stats, seconds=0.0))


def _check(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("QEMU_TEST_REGENERATE"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), (
        f"{name} differs; QEMU_TEST_REGENERATE=1 to accept"
    )


def test_demo_text(report: Report) -> None:
    out = io.StringIO()
    text_report.render(report, out, RenderOptions())
    _check("demo.txt", out.getvalue() + text_report.summary_line(report) + "\n")


def test_demo_json(report: Report) -> None:
    out = io.StringIO()
    json_report.render(report, out, RenderOptions())
    doc = json.loads(out.getvalue())
    assert [f["function"] for f in doc["findings"]] == ["acpi_cpu_eject"]
    _check("demo.json", out.getvalue())


def test_demo_sarif(report: Report) -> None:
    out = io.StringIO()
    sarif_report.render(dataclasses.replace(report, root="/ROOT"), out, RenderOptions())
    doc = json.loads(out.getvalue())
    assert sarif_schema.errors(doc) == []
    [result] = doc["runs"][0]["results"]
    region = result["locations"][0]["physicalLocation"]["region"]
    assert (result["ruleId"], region["startLine"]) == ("acpi-cpu-persistence", 53)
    assert result["partialFingerprints"]["primaryLocationLineHash"].endswith(":1")
    _check("demo.sarif", out.getvalue())


def test_demo_gitlab(report: Report) -> None:
    out = io.StringIO()
    gitlab_report.render(report, out, RenderOptions())
    _check("demo.gitlab.json", out.getvalue())


def test_demo_github(report: Report) -> None:
    out = io.StringIO()
    github_report.render(report, out, RenderOptions())
    _check("demo.github.txt", out.getvalue())
    _check("demo.summary.md", github_report.render_summary(report))
