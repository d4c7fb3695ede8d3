"""What discovery leaves out (qemu_lint/discover/files.py): the ``exclude`` /
``extend-exclude`` patterns and the tree's ``.gitignore`` files, both read as
git reads a ``.gitignore`` (pathspec's GitIgnoreSpec): negation, ``**``,
folder-only patterns, anchoring, nested ``.gitignore`` files (issue 13)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from qemu_lint.discover.files import DEFAULT_EXCLUDES, discover, excluded
from tests.audit_series import DEMO

FILES = (
    "hw/acpi/cpu.c",
    "hw/acpi/ich9.c",
    "hw/acpi/sub/deep.c",
    "hw/arm/virt.c",
    "hw/arm/acpi/x.c",
    "include/hw/acpi/cpu.h",
    "include/standard-headers/linux/types.h",
    "target/i386/cpu.c",
    "target/i386/gen/table.c.inc",
)


HW_ACPI = ["hw/acpi/cpu.c", "hw/acpi/ich9.c", "hw/acpi/sub/deep.c"]
HW_C = [*HW_ACPI, "hw/arm/virt.c", "hw/arm/acpi/x.c"]


def _tree(tmp_path: Path, gitignores: dict[str, str] | None = None) -> Path:
    root = tmp_path / "t"
    for rel in FILES:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(f"/* {rel} */\nint x;\n")
    for rel, text in (gitignores or {}).items():
        (root / rel).write_text(text)
    return root


def _listed(root: Path, excludes: Sequence[str] = DEFAULT_EXCLUDES) -> list[str]:
    files, skipped = discover(str(root), excludes)
    assert not skipped
    return [f.path for f in files]


def _without(*gone: str) -> list[str]:
    return sorted(set(FILES) - set(gone))


def test_default_excludes_are_anchored_at_the_root(tmp_path: Path) -> None:
    assert _listed(_tree(tmp_path)) == _without("include/standard-headers/linux/types.h")


@pytest.mark.parametrize(
    ("patterns", "gone"),
    [
        # a folder prefix, as the setting always took: anchored by its inner '/'
        (["hw/acpi/"], HW_ACPI),
        # a name without '/' matches at any depth, as in .gitignore ...
        (["acpi/"], [*HW_ACPI, "hw/arm/acpi/x.c", "include/hw/acpi/cpu.h"]),
        # ... and a leading '/' anchors it at the root
        (["/acpi/"], []),
        # '**' spans folders
        (["hw/**/*.c"], HW_C),
        (["**/cpu.*"], ["hw/acpi/cpu.c", "include/hw/acpi/cpu.h", "target/i386/cpu.c"]),
        # a trailing '/' matches folders only: no file is named gen, but a folder is
        (["cpu.c/"], []),
        (["gen/"], ["target/i386/gen/table.c.inc"]),
        # negation: the last pattern that matches decides; re-including a folder
        # does not re-include the files in it that a pattern leaves out (git agrees)
        (["hw/acpi/*", "!hw/acpi/cpu.c"], ["hw/acpi/ich9.c", "hw/acpi/sub/deep.c"]),
        (["*.c", "!target/"], [*HW_C, "target/i386/cpu.c"]),
    ],
)
def test_exclude_patterns_are_gitignore_patterns(
    tmp_path: Path, patterns: list[str], gone: list[str]
) -> None:
    root = _tree(tmp_path)
    assert _listed(root, patterns) == _without(*gone)
    for rel in FILES:  # the cache's check of a changed file (--diff-base) agrees
        assert excluded(rel, patterns) is (rel in gone), rel


def test_gitignore_files_are_honoured_nested_deepest_last(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            ".gitignore": "/build/\n*.c.inc\nsub/\n",
            # relative to hw/: hw/arm/virt.c, not a root-level arm/
            "hw/.gitignore": "arm/virt.c\n",
            # a deeper .gitignore re-includes what the root's left out
            "target/i386/.gitignore": "!gen/table.c.inc\n",
        },
    )
    assert _listed(root, ()) == _without("hw/acpi/sub/deep.c", "hw/arm/virt.c")


def test_an_unreadable_or_odd_gitignore_is_left_alone(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    (root / "hw" / ".gitignore").mkdir()  # a folder, not a file: git ignores it too
    (root / "target" / ".gitignore").write_bytes(b"\xff\xfe*.c\n")  # not UTF-8: that line only
    assert _listed(root, ()) == sorted(FILES)


def test_an_exclude_glob_in_the_configuration_leaves_the_files_out(tmp_path: Path) -> None:
    """Issue 14 found ``exclude = ["hw/**"]`` matching nothing, silently; it
    was then refused.  As a gitignore pattern it leaves out what it says."""
    tree = tmp_path / "tree"
    subprocess.run(["cp", "-r", str(DEMO), str(tree)], check=True)
    (tree / ".qemu-lint.toml").write_text('extend-exclude = ["hw/**/cpu.c"]\n')
    r = subprocess.run(
        [sys.executable, "-m", "qemu_lint", "check", str(tree), "--no-cache", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["findings"] == [] and doc["trusted"] is True


def test_the_fast_path_is_on_and_agrees_with_pathspec() -> None:
    """discover/files.py joins every pattern's regular expression into one, to
    skip pathspec's per-pattern loop on the paths no pattern matches (most of
    them); it must be on (a pathspec release may change its expressions'
    shape) and say what pathspec says."""
    from qemu_lint.discover.files import _spec

    lines = (Path(__file__).parents[1] / ".gitignore").read_text().splitlines()
    lines += [*DEFAULT_EXCLUDES, "hw/**/*.c", "!hw/acpi/cpu.c", "acpi/", "cpu.?"]
    got = _spec(lines)
    assert got.any is not None
    probes = [*FILES, *(f.rsplit("/", 1)[0] + "/" for f in FILES), "build/", "x.egg-info/"]
    for probe in probes:
        assert got.check(probe) == got.spec.check_file(probe).include, probe
