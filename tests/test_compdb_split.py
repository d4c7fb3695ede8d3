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
    "cc '-DCONFIG_TARGET=\"x86_64-softmmu-config-target.h\"' -c x.c",
    "cc '' a''b 'c d'e 'f\\g' -c x.c",
    "cc 'x' \"y\" -c x.c",
    "cc 'x'\\ y -c x.c",
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


@pytest.mark.parametrize("command", ['cc -DX="unclosed -c x.c', "cc -DX='unclosed -c x.c"])
def test_unbalanced_quote_is_an_error(command: str) -> None:
    with pytest.raises(ValueError):
        split_command(command)


@pytest.mark.parametrize(
    "argv",
    [
        ["-I", "inc", "-Iother", "-isystem", "sys", "-isystemjoined", "-iquote", "q"],
        ["-include", "forced.h", "-includejoined.h", "-imacros", "m.h", "-imacrosjoined"],
        ["-D", "X=1", "-DY", "-U", "Z", "-UW", "-std=gnu11", "-m64", "-m32"],
        ["-O2", "-Wall", "-c", "x.c", "-o", "x.o", "-MD", "-MF", "x.d", "-i", "-I"],
    ],
)
def test_kept_flags(argv: list[str]) -> None:
    from qemu_lint.frontends.clang.compdb import _keep_flags

    kept = ("-I", "-isystem", "-iquote", "-idirafter", "-include", "-imacros", "-D", "-U")
    want: list[str] = []
    i = 0
    while i < len(argv):  # the rule, spelled out: a flag and its argument, or joined
        a = argv[i]
        if a in kept and i + 1 < len(argv):
            want += [a, argv[i + 1]]
            i += 1
        elif any(a.startswith(f) and a != f for f in kept if f not in ("-include", "-imacros")):
            want.append(a)
        elif a.startswith("-std=") or a in ("-m32", "-m64"):
            want.append(a)
        i += 1
    assert list(_keep_flags(argv)) == want


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
