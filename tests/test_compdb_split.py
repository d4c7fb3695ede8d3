"""The compile database's ``command`` strings are split as a POSIX shell
does (``shlex.split``), with a fast path for commands without quotes or
backslashes (issue 12: shlex dominated a warm ``--frontend clang`` run)."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from qemu_lint.frontends.clang.compdb import load_compile_db, split_command

COMMANDS = [
    "cc -Iinclude -DX=1 -c ../hw/acpi/cpu.c -o cpu.o",
    "cc  -I a\t-I\tb\n-c x.c",
    '  cc -DQEMU_VERSION="10.0" -c x.c  ',
    "cc -DNAME='a b' -c x.c",
    "cc -I dir\\ with\\ spaces -c x.c",
    "cc -Dx\x0by -c x.c",
    "cc -Dx\x1cy -c x.c",
    "cc -Dcaf\u00e9 -c x.c",
    "cc -c x.c # not a comment",
    "",
    "   ",
]


@pytest.mark.parametrize("command", COMMANDS)
def test_split_is_shlex(command: str) -> None:
    assert split_command(command) == shlex.split(command)


def test_unbalanced_quote_is_an_error() -> None:
    with pytest.raises(ValueError):
        split_command('cc -DX="unclosed -c x.c')


def test_compile_db_flags_from_commands(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    (tree / "hw").mkdir(parents=True)
    (tree / "hw" / "a.c").write_text("int a;\n")
    (tree / "hw" / "b.c").write_text("int b;\n")
    build = tmp_path / "build"
    build.mkdir()
    entries = [
        {
            "directory": str(build),
            "file": "../tree/hw/a.c",
            "command": "cc -I../tree/include -DA=1 -O2 -c ../tree/hw/a.c",
        },
        {
            "directory": str(build),
            "file": "../tree/hw/b.c",
            "command": 'cc -I"../tree/my include" -DB="x y" -Wall -c ../tree/hw/b.c',
        },
    ]
    (build / "compile_commands.json").write_text(json.dumps(entries))
    db = load_compile_db(str(build), str(tree))
    assert db["hw/a.c"].flags == ("-I../tree/include", "-DA=1")
    assert db["hw/b.c"].flags == ("-I../tree/my include", "-DB=x y")
