"""The terminal (docs/usage.md#the-terminal): frames and colour on a pty, plain
logs off one, ``explain`` through a pager, progress only for long batches,
and ``--help`` with every option explained and each command's exit table.

Pty tests run ``python -m qemu_lint`` with stdout (and stderr) on a pseudo
terminal, read everything it writes, and look at the bytes.
"""

from __future__ import annotations

import argparse
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, SAMPLES

DEMO = SAMPLES / "trees" / "demo"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _on_pty(*args: str, env: dict[str, str], cwd: Path = REPO) -> str:
    """Run qemu-lint with stdout and stderr on a pty; all it wrote, CRs dropped."""
    leader, follower = pty.openpty()
    p = subprocess.Popen(
        [sys.executable, "-m", "qemu_lint", *args],
        stdin=subprocess.DEVNULL,
        stdout=follower,
        stderr=follower,
        cwd=cwd,
        env=env,
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:  # EIO: the child closed the pty
            break
        if not data:
            break
        chunks.append(data)
    p.wait(timeout=120)
    os.close(leader)
    return b"".join(chunks).decode("utf-8", "replace").replace("\r", "")


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "CI")}
    env.update({"TERM": "xterm-256color", "COLUMNS": "120", "PAGER": "cat", **extra})
    return env


def test_no_color_drops_colour_but_keeps_the_frame() -> None:
    coloured = _on_pty("check", str(DEMO), env=_env())
    plain = _on_pty("check", str(DEMO), env=_env(NO_COLOR="1"))
    assert ANSI.search(coloured)
    assert not ANSI.search(plain), plain
    # the code frame (numbered source lines around the site) is in both
    for out in (coloured, plain):
        assert re.search(r"(?m)^\D*53\D.*cdev->cpu = NULL;", ANSI.sub("", out)), out


def test_frame_theme_uses_the_terminal_default_colour_for_code() -> None:
    """No fixed white (or any 256-colour/RGB) foreground: plain code is the
    terminal's own colour, readable on dark and light backgrounds."""
    out = _on_pty("check", str(DEMO), env=_env())
    codes = set(re.findall(r"\x1b\[([0-9;]*)m", out))
    assert not [c for c in codes if re.search(r"(^|;)(38;[25]|37|97)(;|$)", c)], codes


def test_explain_on_a_terminal_is_rendered_through_the_pager() -> None:
    out = _on_pty("explain", "acpi-cpu-persistence", env=_env(NO_COLOR="1"))
    text = ANSI.sub("", out)
    assert "acpi-cpu-persistence (error)" in text
    assert "# acpi-cpu-persistence" not in text  # rendered, not raw Markdown


def test_explain_piped_is_markdown() -> None:
    r = subprocess.run(
        [sys.executable, "-m", "qemu_lint", "explain", "acpi-cpu-persistence"],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=60,
    )
    assert r.returncode == 0 and r.stdout.startswith("# acpi-cpu-persistence (error)\n\n")
    assert not ANSI.search(r.stdout)


def test_log_lines_off_a_terminal_are_plain_and_unwrapped(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "qemu_lint",
            "check",
            "--cache-dir",
            str(blocker / "c"),
            str(DEMO),
        ],  # fmt: skip
        capture_output=True,
        text=True,
        env=_env(COLUMNS="40"),
        timeout=120,
    )
    [warning] = [ln for ln in r.stderr.splitlines() if "cache:" in ln]
    assert warning.startswith("qemu-lint: warning: cache: cannot write to ")
    assert warning.endswith("going on without caching")  # one line, however narrow
    assert not any(ln != ln.rstrip() for ln in r.stderr.splitlines())


def test_progress_shows_only_after_a_second(monkeypatch: pytest.MonkeyPatch) -> None:
    from qemu_lint.cli import progress

    now = [100.0]
    started: list[tuple[int, str]] = []
    monkeypatch.setattr(progress.time, "monotonic", lambda: now[0])
    monkeypatch.setattr(progress, "_interactive", lambda total: True)
    monkeypatch.setattr(
        progress._Bar, "_start", lambda self, total, what: started.append((total, what))
    )
    bar = progress.progress_bar()
    bar(0, 10, "parse")
    bar(5, 10, "parse")
    bar(10, 10, "parse")  # a warm check: over before a second
    assert started == []
    bar(0, 10, "parse")
    now[0] += 1.5
    bar(3, 10, "parse")
    assert started == [(10, "parse")]


def _parsers() -> list[tuple[str, argparse.ArgumentParser]]:
    from qemu_lint.cli.main import _parser

    top = _parser()
    [sub] = [a for a in top._actions if isinstance(a, argparse._SubParsersAction)]
    return [("qemu-lint", top), *sub.choices.items()]


@pytest.mark.parametrize("name", [n for n, _ in _parsers()])
def test_every_option_has_help_and_each_command_its_exit_table(name: str) -> None:
    parser = dict(_parsers())[name]
    for action in parser._actions:
        if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
            continue
        assert action.help, f"{name}: {action.option_strings or action.dest} has no help text"
    assert parser.epilog and parser.epilog.startswith("exit status:"), name
    if name in ("model", "rules", "explain", "dump-facts"):
        assert "findings" not in parser.epilog  # not check's table
