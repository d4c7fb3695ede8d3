"""Configuration (docs/configuration.md): discovery, precedence, --show-config and bad settings.

Driven through ``qemu_lint.cli.main`` in process.  Every tree is made under
``tmp_path`` with a ``.git`` folder at its top, so that discovery stops there
as it would at a repository root.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from qemu_lint.rules import ALL_RULES, KEYS
from qemu_lint.settings import DEFAULT
from tests.conftest import SAMPLES, materialize
from tests.conftest import run_check as _run
from tests.conftest import run_check_json as _json

Capsys = pytest.CaptureFixture[str]
CASES = SAMPLES / "rules" / "acpi-cpu-persistence"
RELEASE = "hw/acpi/cpu.c"


def _repo(tmp_path: Path, case: str = "unguarded", name: str = "repo") -> Path:
    tree = materialize(CASES / case, tmp_path / name)
    (tree / ".git").mkdir()
    return tree


def _shown(capsys: Capsys, *args: str) -> tuple[dict[str, Any], dict[str, str], str]:
    """``--show-config``: the settings as TOML, each key's origin, and the raw text."""
    status, out, err = _run(capsys, "--show-config", *args)
    assert status == 0, err
    origins = {}
    for line in out.splitlines():
        if line and not line.startswith("#"):
            key, _, rest = line.partition(" = ")
            origins[key] = rest.rsplit("  # ", 1)[1]
    return tomllib.loads(out), origins, out


# --- discovery ----------------------------------------------------------------


def test_nearest_file_wins(tmp_path: Path, capsys: Capsys) -> None:
    tree = _repo(tmp_path)
    (tree / ".qemu-lint.toml").write_text("presence-bit = 1\n")
    (tree / "hw" / ".qemu-lint.toml").write_text("presence-bit = 2\n")
    settings, origins, _ = _shown(capsys, str(tree / RELEASE))
    assert settings["presence-bit"] == 2
    assert origins["presence-bit"] == str(tree / "hw" / ".qemu-lint.toml")
    settings, origins, _ = _shown(capsys, str(tree / "target"))
    assert settings["presence-bit"] == 1
    assert origins["presence-bit"] == str(tree / ".qemu-lint.toml")


def test_cwd_when_no_path(tmp_path: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    tree = _repo(tmp_path)
    (tree / ".qemu-lint.toml").write_text('ignore = ["acpi-cpu-persistence"]\n')
    monkeypatch.chdir(tree / "hw" / "acpi")
    settings, _, out = _shown(capsys)
    assert settings["ignore"] == ["acpi-cpu-persistence"]
    assert f"# configuration file: {tree / '.qemu-lint.toml'}" in out


def test_pyproject_table(tmp_path: Path, capsys: Capsys) -> None:
    tree = _repo(tmp_path)
    (tree / "pyproject.toml").write_text('[tool.qemu-lint]\nrequired-archs = ["arm"]\n')
    # a pyproject.toml without the table is passed over
    (tree / "hw" / "pyproject.toml").write_text('[project]\nname = "x"\n')
    settings, origins, _ = _shown(capsys, str(tree / RELEASE))
    assert settings["required-archs"] == ["arm"]
    assert origins["required-archs"] == str(tree / "pyproject.toml")


def test_dotfile_beats_pyproject_in_the_same_folder(tmp_path: Path, capsys: Capsys) -> None:
    tree = _repo(tmp_path)
    (tree / "pyproject.toml").write_text("[tool.qemu-lint]\npresence-bit = 3\n")
    (tree / ".qemu-lint.toml").write_text("presence-bit = 4\n")
    settings, _, _ = _shown(capsys, str(tree))
    assert settings["presence-bit"] == 4


@pytest.mark.parametrize("boundary", [".git-file", ".git-dir", ".hg", "home"])
def test_walk_stops_at_the_repository_root(
    tmp_path: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch, boundary: str
) -> None:
    outer = tmp_path / "outer"
    outer.mkdir()
    (outer / ".qemu-lint.toml").write_text("presence-bit = 5\n")
    tree = materialize(CASES / "unguarded", outer / "qemu")
    # control: with no boundary the file above is found
    settings, _, _ = _shown(capsys, str(tree))
    assert settings["presence-bit"] == 5
    if boundary == ".git-file":  # a worktree or submodule
        (tree / ".git").write_text("gitdir: /elsewhere/.git/worktrees/qemu\n")
    elif boundary == ".git-dir":
        (tree / ".git").mkdir()
    elif boundary == ".hg":
        (tree / ".hg").mkdir()
    else:
        monkeypatch.setenv("HOME", str(tree))
    settings, origins, out = _shown(capsys, str(tree / RELEASE))
    # unset by default (the model derives the bit): a comment, TOML has no null
    assert "presence-bit" not in settings
    assert "# presence-bit is unset  # default" in out
    assert "# configuration file: none" in out


def test_repository_root_file_is_read(tmp_path: Path, capsys: Capsys) -> None:
    tree = _repo(tmp_path)
    (tree / ".qemu-lint.toml").write_text("presence-bit = 6\n")
    settings, _, _ = _shown(capsys, str(tree / RELEASE))
    assert settings["presence-bit"] == 6


def test_user_config_is_the_fallback(
    tmp_path: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    tree = _repo(tmp_path)
    xdg = tmp_path / "xdg"
    (xdg / "qemu-lint").mkdir(parents=True)
    (xdg / "qemu-lint" / "config.toml").write_text("presence-bit = 7\n")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(xdg))
    settings, origins, _ = _shown(capsys, str(tree))
    assert settings["presence-bit"] == 7
    assert origins["presence-bit"] == str(xdg / "qemu-lint" / "config.toml")
    (tree / ".qemu-lint.toml").write_text("presence-bit = 8\n")
    settings, _, _ = _shown(capsys, str(tree))
    assert settings["presence-bit"] == 8


def test_paths_with_different_files_is_an_error(tmp_path: Path, capsys: Capsys) -> None:
    tree = _repo(tmp_path)
    (tree / "hw" / ".qemu-lint.toml").write_text("presence-bit = 1\n")
    (tree / "target" / ".qemu-lint.toml").write_text("presence-bit = 2\n")
    status, out, err = _run(capsys, str(tree / RELEASE), str(tree / "target" / "arm" / "cpu.c"))
    assert status == 2 and out == ""
    [line] = err.splitlines()
    assert "different configuration files" in line and "--config" in line


def test_config_option_replaces_discovery(tmp_path: Path, capsys: Capsys) -> None:
    tree = _repo(tmp_path)
    (tree / ".qemu-lint.toml").write_text("presence-bit = 1\n")
    other = tmp_path / "other.toml"
    other.write_text("presence-bit = 9\n")
    settings, origins, _ = _shown(capsys, "--config", str(other), str(tree))
    assert settings["presence-bit"] == 9
    assert origins["presence-bit"] == str(other)


def test_isolated_ignores_files(tmp_path: Path, capsys: Capsys) -> None:
    tree = _repo(tmp_path)
    (tree / ".qemu-lint.toml").write_text("presence-bit = 1\n")
    settings, origins, out = _shown(capsys, "--isolated", str(tree))
    assert "presence-bit" not in settings and "# presence-bit is unset  # default" in out
    status, _, err = _run(
        capsys, "--isolated", "--config", str(tree / ".qemu-lint.toml"), str(tree)
    )
    assert status == 2 and "--isolated" in err


def test_precedence_file_then_override_then_flags(tmp_path: Path, capsys: Capsys) -> None:
    tree = _repo(tmp_path)
    cfg = tree / ".qemu-lint.toml"
    cfg.write_text(
        'select = ["acpi-cpu-persistence"]\npresence-bit = 1\n'
        '[severity]\nacpi-cpu-persistence = "note"\n'
    )
    settings, origins, _ = _shown(
        capsys,
        "--config",
        "presence-bit = 2",
        "--config",
        "severity.persistence-hook-required = 'warning'",
        "--select",
        "persistence-hook-required",
        str(tree),
    )
    assert settings["presence-bit"] == 2 and origins["presence-bit"] == "command line"
    assert settings["select"] == ["persistence-hook-required"]
    assert origins["select"] == "command line"
    assert settings["severity"]["acpi-cpu-persistence"] == "note"
    assert settings["severity"]["persistence-hook-required"] == "warning"
    assert origins["severity.acpi-cpu-persistence"] == str(cfg)
    assert origins["severity.persistence-hook-required"] == "command line"


# --- --show-config ---------------------------------------------------------------


def test_show_config_lists_every_key_with_its_origin(tmp_path: Path, capsys: Capsys) -> None:
    tree = _repo(tmp_path)
    cfg = tree / ".qemu-lint.toml"
    cfg.write_text('required-archs = ["arm"]\nextend-exclude = ["hw/intc"]\n')
    settings, origins, out = _shown(capsys, str(tree))
    assert out.startswith(f"# configuration file: {cfg}\n# QEMU root: {tree}\n")
    # presence-bit is unset by default: shown as a comment (TOML has no null)
    expected_keys = {k for k in KEYS if k not in ("severity", "presence-bit")}
    expected_keys |= {f"severity.{r.id}" for r in ALL_RULES}
    assert set(origins) == expected_keys
    assert set(settings) == set(KEYS) - {"presence-bit"}
    assert "# presence-bit is unset  # default\n" in out
    assert settings["required-archs"] == ["arm"] and origins["required-archs"] == str(cfg)
    assert settings["extend-exclude"] == ["hw/intc"]  # a gitignore pattern, kept as written
    assert settings["hooks"] == [
        "CPUClass::cpu_persistent_status",
        "CPUState::acpi_persistent",
        "CPUHotplugState::always_present_cpus",
    ]
    assert settings["severity"] == {r.id: r.severity.value for r in ALL_RULES}
    for key in expected_keys - {"required-archs", "extend-exclude"}:
        assert origins[key] == DEFAULT, key


def test_show_config_outside_a_qemu_tree(tmp_path: Path, capsys: Capsys) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".qemu-lint.toml").write_text("presence-bit = 3\n")
    settings, _, out = _shown(capsys, str(tmp_path))
    assert settings["presence-bit"] == 3
    assert "# QEMU root: none" in out


# --- settings take effect ---------------------------------------------------------


def test_severity_is_stamped_by_the_engine(tmp_path: Path, capsys: Capsys) -> None:
    tree = _repo(tmp_path)
    status, doc = _json(capsys, str(tree))
    assert status == 1 and [f["severity"] for f in doc["findings"]] == ["error"]
    (tree / ".qemu-lint.toml").write_text('[severity]\nacpi-cpu-persistence = "warning"\n')
    status, doc = _json(capsys, str(tree))
    assert status == 1 and [f["severity"] for f in doc["findings"]] == ["warning"]
    status, out, _ = _run(capsys, str(tree))
    assert re.match(r"^hw/acpi/cpu\.c:\d+:\d+: warning: .*\[acpi-cpu-persistence\]$", out, re.M)


def test_exclude_and_extend_exclude(tmp_path: Path, capsys: Capsys) -> None:
    tree = _repo(tmp_path)
    status, doc = _json(capsys, str(tree))
    assert status == 1 and doc["findings"]
    files = doc["stats"]["tree_files"]
    (tree / ".qemu-lint.toml").write_text('extend-exclude = ["hw/acpi"]\n')
    status, doc = _json(capsys, str(tree))
    assert status == 0 and doc["findings"] == []
    acpi_files = len(list((tree / "hw" / "acpi").glob("*.[ch]")))
    assert doc["stats"]["tree_files"] == files - acpi_files
    # exclude replaces the default list: include/standard-headers/ is analysed again
    std = tree / "include" / "standard-headers"
    std.mkdir()
    (std / "linux.h").write_text("int x;\n")
    status, doc = _json(capsys, str(tree))
    assert doc["stats"]["tree_files"] == files - acpi_files
    (tree / ".qemu-lint.toml").write_text('exclude = ["hw/acpi/"]\n')
    status, doc = _json(capsys, str(tree))
    assert status == 0
    assert doc["stats"]["tree_files"] == files - acpi_files + 1


@pytest.mark.parametrize("marker", ["build.ninja", "meson-private"])
def test_build_folders_in_the_tree_are_skipped(tmp_path: Path, capsys: Capsys, marker: str) -> None:
    tree = _repo(tmp_path, "d1-if")
    gen = tree / "hw" / "acpi" / "out"
    gen.mkdir()
    (gen / "generated.c").write_text(
        '#include "hw/acpi/cpu.h"\n\n'
        "void forget(AcpiCpuStatus *cdev)\n{\n    cdev->cpu = NULL;\n}\n"
    )
    status, doc = _json(capsys, str(tree))
    assert status == 1
    assert [f["file"] for f in doc["findings"]] == ["hw/acpi/out/generated.c"]
    if marker == "build.ninja":
        (gen / marker).write_text("# ninja\n")
    else:
        (gen / marker).mkdir()
    status, doc = _json(capsys, str(tree))
    assert status == 0 and doc["findings"] == []


def test_required_arch_absent_from_the_tree(tmp_path: Path, capsys: Capsys) -> None:
    tree = _repo(tmp_path)
    cfg = tree / ".qemu-lint.toml"
    cfg.write_text('required-archs = ["arm", "sparc"]\n')
    status, out, err = _run(capsys, str(tree))
    assert status == 2 and out == ""
    [line] = err.splitlines()
    assert str(cfg) in line and "required-archs" in line and "'sparc'" in line
    assert "arm, i386, loongarch, riscv" in line


def test_unknown_presence_field_is_a_warning(tmp_path: Path, capsys: Capsys) -> None:
    tree = _repo(tmp_path)
    cfg = tree / ".qemu-lint.toml"
    cfg.write_text('presence-fields = ["is_presnt"]\n')
    status, doc = _json(capsys, str(tree))
    assert status == 1
    message = "'presence-fields': AcpiCpuStatus declares no field 'is_presnt' in this tree"
    want = {"file": str(cfg), "level": "warning", "message": message, "untrusted": ""}
    assert want in doc["problems"]
    # again, with the cache's record of the unchanged tree: still said
    status, doc = _json(capsys, str(tree))
    assert want in doc["problems"]


# --- bad settings: exit 2, one line naming the file, the key and what is allowed ---------

BAD: list[tuple[str, str, tuple[str, ...]]] = [
    # (TOML, key named, words of what is allowed)
    ("hookz = []", "hookz", ("allowed:", "hooks", "required-archs", "severity")),
    ("hooks = 3", "hooks", ("list of strings", "Struct::field")),
    ("hooks = []", "hooks", ("non-empty",)),
    ('hooks = ["CPUClass:x"]', "hooks", ("Struct::field",)),
    ('extend-hooks = "CPUClass::x"', "extend-hooks", ("list of strings",)),
    ("presence-bit = 32", "presence-bit", ("0..31",)),
    ('presence-bit = "0"', "presence-bit", ("0..31",)),
    ("presence-bit = true", "presence-bit", ("0..31",)),
    ('presence-fields = ["is present"]', "presence-fields", ("field names",)),
    ("presence-fields = 1", "presence-fields", ("field names",)),
    ('severity = "error"', "severity", ("table", "error", "warning", "note")),
    ('severity = {nope = "error"}', "severity", ("unknown rule 'nope'", "acpi-cpu-persistence")),
    (
        'severity = {acpi-cpu-persistence = "fatal"}',
        "severity.acpi-cpu-persistence",
        ("error, warning, note", "'fatal'"),
    ),
    ('required-archs = ["ARM"]', "required-archs", ("architecture names",)),
    ('required-archs = "arm"', "required-archs", ("architecture names",)),
    ('exclude = ["!"]', "exclude", ("not a gitignore pattern",)),
    ('exclude = ["hw/../x"]', "exclude", ("relative to the root", "'..'")),
    ("extend-exclude = [1]", "extend-exclude", ("gitignore patterns",)),
    ('select = ["nope"]', "select", ("unknown rule 'nope'", "acpi-cpu-persistence")),
    ('ignore = ["nope"]', "ignore", ("unknown rule 'nope'", "persistence-hook-required")),
]


@pytest.mark.parametrize(("toml", "key", "allowed"), BAD, ids=[b[0] for b in BAD])
@pytest.mark.parametrize("where", ["dotfile", "pyproject", "override"])
def test_bad_setting(
    tmp_path: Path, capsys: Capsys, toml: str, key: str, allowed: tuple[str, ...], where: str
) -> None:
    tree = _repo(tmp_path)
    if where == "dotfile":
        cfg = tree / ".qemu-lint.toml"
        cfg.write_text(toml + "\n")
        args, named = [str(tree)], str(cfg)
    elif where == "pyproject":
        cfg = tree / "pyproject.toml"
        cfg.write_text("[tool.qemu-lint]\n" + toml + "\n")
        args, named = [str(tree)], str(cfg)
    else:
        args, named = ["--config", toml, str(tree)], f"--config {toml!r}"
    for extra in ([], ["--show-config"]):
        status, out, err = _run(capsys, *extra, *args)
        assert status == 2, err
        assert out == ""
        lines = err.splitlines()
        assert len(lines) == 1, err
        assert lines[0].startswith(f"qemu-lint: error: {named}: ")
        assert f"'{key}'" in lines[0]
        for word in allowed:
            assert word in lines[0], (word, lines[0])


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        (".qemu-lint.toml", "hooks = [", "invalid TOML"),
        ("pyproject.toml", "[tool.qemu-lint]\nhooks = [", "invalid TOML"),
        ("pyproject.toml", '[tool]\nqemu-lint = "x"\n', "'tool.qemu-lint' must be a table"),
    ],
)
def test_unreadable_config_file(
    tmp_path: Path, capsys: Capsys, name: str, text: str, expected: str
) -> None:
    tree = _repo(tmp_path)
    cfg = tree / name
    cfg.write_text(text)
    status, out, err = _run(capsys, str(tree))
    assert status == 2 and out == ""
    [line] = err.splitlines()
    assert line.startswith(f"qemu-lint: error: {cfg}: ") and expected in line


def test_broken_unrelated_pyproject_is_passed_over(tmp_path: Path, capsys: Capsys) -> None:
    tree = _repo(tmp_path)
    (tree / "pyproject.toml").write_text("[project\n")
    status, _, err = _run(capsys, str(tree))
    assert status == 1, err


def test_missing_config_file(tmp_path: Path, capsys: Capsys) -> None:
    tree = _repo(tmp_path)
    missing = tmp_path / "nope.toml"
    status, out, err = _run(capsys, "--config", str(missing), str(tree))
    assert status == 2 and out == ""
    [line] = err.splitlines()
    assert str(missing) in line and "no such configuration file" in line


def test_two_config_files_on_the_command_line(tmp_path: Path, capsys: Capsys) -> None:
    tree = _repo(tmp_path)
    a, b = tmp_path / "a.toml", tmp_path / "b.toml"
    a.write_text("")
    b.write_text("")
    status, _, err = _run(capsys, "--config", str(a), "--config", str(b), str(tree))
    assert status == 2 and "more than one file" in err
