"""Baselines (``--write-baseline`` / ``--baseline``) and the fingerprints they rely on.

A baseline lists findings by rule, path and fingerprint, never by line, so the
fingerprint must survive lines inserted above a site, reindenting and spacing
changes, and must change when the site itself really changes.  These tests
edit a copy of ``samples/trees/demo`` to check exactly that.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from qemu_lint.engine import run
from qemu_lint.findings import baseline as baseline_mod
from qemu_lint.rules import default_config
from tests.conftest import SAMPLES
from tests.conftest import run_check as _cli
from tests.conftest import run_check_json as _json

Capsys = pytest.CaptureFixture[str]
SITE = "    cdev->cpu = NULL;  /* expect: acpi-cpu-persistence */\n"


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    return Path(shutil.copytree(SAMPLES / "trees" / "demo", tmp_path / "demo"))


def _fingerprints(tree: Path) -> list[str]:
    return [f.fingerprint for f in run(default_config(root=str(tree), jobs=1)).findings]


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


# --- fingerprints -----------------------------------------------------------


def test_fingerprint_survives_lines_above_reindent_and_spacing(demo: Path) -> None:
    cpu_c = demo / "hw" / "acpi" / "cpu.c"
    [before] = run(default_config(root=str(demo), jobs=1)).findings
    _edit(cpu_c, "/* OSPM ran _EJ0", "/*\n * A comment\n * of four lines\n */\n\n/* OSPM ran _EJ0")
    _edit(cpu_c, "#include", '#include "qemu/osdep.h"\n#include')  # one more at the top
    _edit(cpu_c, SITE, "\t\tcdev -> cpu  =   NULL ;\n")
    [after] = run(default_config(root=str(demo), jobs=1)).findings
    assert after.line == before.line + 6 and after.column != before.column
    assert after.fingerprint == before.fingerprint


def test_fingerprint_changes_when_the_site_changes(demo: Path) -> None:
    cpu_c = demo / "hw" / "acpi" / "cpu.c"
    [before] = _fingerprints(demo)
    # the same release written through another variable
    _edit(cpu_c, SITE, "    cpu_st->devs[cpu_st->selector].cpu = NULL;\n")
    [renamed] = _fingerprints(demo)
    assert renamed != before
    # the release moved to another function
    shutil.rmtree(demo)
    shutil.copytree(SAMPLES / "trees" / "demo", demo)
    _edit(cpu_c, SITE, "")
    _edit(
        cpu_c,
        "        acpi_cpu_eject(cpu_st, cdev);\n",
        "        acpi_cpu_eject(cpu_st, cdev);\n" + SITE,
    )
    [moved] = run(default_config(root=str(demo), jobs=1)).findings
    assert moved.function == "cpu_hotplug_wr"
    assert moved.fingerprint not in (before, renamed)


def test_identical_sites_get_distinct_fingerprints(demo: Path) -> None:
    _edit(demo / "hw" / "acpi" / "cpu.c", SITE, SITE + SITE)
    fps = _fingerprints(demo)
    assert len(fps) == 2 and len(set(fps)) == 2


# --- --write-baseline / --baseline ------------------------------------------


def test_write_baseline_records_findings_without_lines(
    demo: Path, tmp_path: Path, capsys: Capsys
) -> None:
    out_file = tmp_path / "qemu-lint-baseline.json"
    status, out, err = _cli(capsys, "--write-baseline", str(out_file), str(demo))
    assert status == 0
    assert out == ""
    assert err.strip() == f"qemu-lint: wrote 1 finding to {out_file}"
    doc = json.loads(out_file.read_text(encoding="utf-8"))
    [fp] = _fingerprints(demo)
    assert doc["version"] == 1
    assert doc["findings"] == [
        {
            "rule": "acpi-cpu-persistence",
            "path": "hw/acpi/cpu.c",
            "fingerprint": fp,
            "function": "acpi_cpu_eject",
            "kind": "release",
        }
    ]
    assert doc["counts"] == {"hw/acpi/cpu.c": 1}
    assert not re.search(r'"(line|column|end_line)"', out_file.read_text(encoding="utf-8"))
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".qemu-lint")] == []


def test_baseline_hides_known_findings_across_edits(
    demo: Path, tmp_path: Path, capsys: Capsys
) -> None:
    bl = tmp_path / "bl.json"
    assert _cli(capsys, "--write-baseline", str(bl), str(demo))[0] == 0
    status, doc = _json(capsys, "--baseline", str(bl), str(demo))
    assert status == 0
    assert doc["findings"] == [] and doc["stats"]["baselined"] == 1

    cpu_c = demo / "hw" / "acpi" / "cpu.c"
    _edit(cpu_c, "/* OSPM ran _EJ0", "/* moved down\n */\n\n/* OSPM ran _EJ0")
    _edit(cpu_c, SITE, "  cdev->cpu=NULL;\n")
    # a new release, elsewhere in the file
    _edit(
        cpu_c,
        "        cdev->fw_remove = true;\n",
        "        cdev->fw_remove = true;\n        cdev->cpu = NULL;\n",
    )
    status, doc = _json(capsys, "--baseline", str(bl), str(demo))
    assert status == 1
    assert [(f["function"], f["file"]) for f in doc["findings"]] == [
        ("cpu_hotplug_wr", "hw/acpi/cpu.c")
    ]
    assert doc["stats"]["baselined"] == 1

    status, out, err = _cli(capsys, "--baseline", str(bl), str(demo))
    assert status == 1
    assert err.strip() == "Found 1 finding in 1 file (1 in the baseline)."


def test_write_baseline_replaces_the_file_atomically(
    demo: Path, tmp_path: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    bl = tmp_path / "bl.json"
    bl.write_text("old contents\n")
    bl.chmod(0o644)

    def broken_dumps(*args: Any, **kwargs: Any) -> str:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(baseline_mod.json, "dumps", broken_dumps)
    status, out, err = _cli(capsys, "--write-baseline", str(bl), str(demo))
    assert status == 2
    assert (
        err.strip() == f"qemu-lint: error: {bl}: cannot write the baseline: No space left on device"
    )
    assert bl.read_text() == "old contents\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bl.json", "demo"]
    monkeypatch.undo()
    assert _cli(capsys, "--write-baseline", str(bl), str(demo))[0] == 0
    assert json.loads(bl.read_text())["version"] == 1
    assert bl.stat().st_mode & 0o777 == 0o644  # the old file's mode is kept


def _bad(doc: object) -> str:
    return json.dumps(doc)


GOOD_ENTRY = {"rule": "acpi-cpu-persistence", "path": "hw/acpi/cpu.c", "fingerprint": "ab"}


@pytest.mark.parametrize(
    ("content", "cause"),
    [
        ("{not json", "not a baseline: invalid JSON"),
        ("[]", "not a baseline: expected a JSON object"),
        (_bad({"version": 2, "findings": [], "counts": {}}), "unsupported baseline version 2"),
        (_bad({"findings": [], "counts": {}}), "unsupported baseline version None"),
        (_bad({"version": 1, "findings": {}, "counts": {}}), "'findings' must be a list"),
        (
            _bad({"version": 1, "findings": [{"rule": "r", "path": "p"}], "counts": {"p": 1}}),
            "finding 1: needs non-empty strings 'rule', 'path' and 'fingerprint'",
        ),
        (_bad({"version": 1, "findings": [GOOD_ENTRY]}), "'counts' must map paths to integers"),
        (
            _bad({"version": 1, "findings": [GOOD_ENTRY], "counts": {}}),
            "'counts' disagrees with 'findings' for hw/acpi/cpu.c (0 counted, 1 listed)",
        ),
        ("\xff\xfe", "not a baseline: invalid JSON"),
    ],
)
def test_bad_baseline_exits_2_naming_file_and_cause(
    demo: Path, tmp_path: Path, capsys: Capsys, content: str, cause: str
) -> None:
    bl = tmp_path / "bl.json"
    bl.write_bytes(content.encode("latin-1") if content == "\xff\xfe" else content.encode())
    status, out, err = _cli(capsys, "--baseline", str(bl), str(demo))
    assert status == 2
    assert out == ""
    [line] = err.strip().splitlines()
    assert line.startswith(f"qemu-lint: error: {bl}: ")
    assert cause in line


def test_missing_or_unreadable_baseline_exits_2(demo: Path, tmp_path: Path, capsys: Capsys) -> None:
    missing = tmp_path / "nope.json"
    status, _, err = _cli(capsys, "--baseline", str(missing), str(demo))
    assert status == 2
    assert err.strip() == (
        f"qemu-lint: error: {missing}: cannot read the baseline: No such file or directory"
    )
    status, _, err = _cli(capsys, "--baseline", str(tmp_path), str(demo))
    assert status == 2 and "Is a directory" in err
    status, _, err = _cli(capsys, "--write-baseline", str(tmp_path / "no" / "bl.json"), str(demo))
    assert status == 2 and "cannot write the baseline: No such file or directory" in err


def test_baseline_written_with_baseline_flag_records_everything(
    demo: Path, tmp_path: Path, capsys: Capsys
) -> None:
    bl = tmp_path / "bl.json"
    assert _cli(capsys, "--write-baseline", str(bl), str(demo))[0] == 0
    _edit(
        demo / "hw" / "acpi" / "cpu.c",
        "        cdev->fw_remove = true;\n",
        "        cdev->fw_remove = true;\n        cdev->cpu = NULL;\n",
    )
    # refreshing a baseline in place: --baseline does not filter what is written
    assert _cli(capsys, "--baseline", str(bl), "--write-baseline", str(bl), str(demo))[0] == 0
    assert json.loads(bl.read_text())["counts"] == {"hw/acpi/cpu.c": 2}


def test_baseline_config_key_names_the_file_relative_to_the_config(
    demo: Path, tmp_path: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A CI job's ``.qemu-lint.toml`` names the baseline; ``--baseline`` still wins."""
    bl = demo / "ci" / "baseline.json"
    bl.parent.mkdir()
    assert _cli(capsys, "--write-baseline", str(bl), str(demo))[0] == 0
    (demo / ".qemu-lint.toml").write_text('baseline = "ci/baseline.json"\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # relative to the configuration file, not the cwd
    status, doc = _json(capsys, str(demo))
    assert status == 0 and doc["stats"]["baselined"] == 1
    empty = tmp_path / "empty.json"
    baseline_mod.write_baseline(str(empty), [])
    status, doc = _json(capsys, "--baseline", str(empty), str(demo))
    assert status == 1 and doc["stats"]["baselined"] == 0
    (demo / ".qemu-lint.toml").write_text('baseline = "missing.json"\n', encoding="utf-8")
    status, _, err = _cli(capsys, str(demo))
    assert status == 2 and "missing.json" in err
