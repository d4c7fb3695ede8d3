"""A check after lines that hold no facts were inserted (a comment, a blank
line): the file selection takes the recorded run's rounds instead of running
its closure again (``Session.selection_stands``, ``select.replayed_choice``),
and the report is a run without cache's."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from qemu_lint.cache.session import line_mapped
from qemu_lint.engine import run
from qemu_lint.facts import Expr, FileFacts, FunctionDef, Stmt, TypeRef
from qemu_lint.findings import Report
from qemu_lint.rules import default_config
from tests import qemu_variants as qv
from tests.conftest import SAMPLES, files_parsed, materialize, qemu_tree
from tests.test_cache import _key, _stats

DEMO = SAMPLES / "trees" / "demo"
INSERTED = "// a line inserted by test_edit_replay"


def _check(root: Path, cache: Path | None) -> Report:
    return run(default_config(root=str(root), jobs=1, cache_dir=str(cache) if cache else None))


@contextmanager
def rounds_asked() -> Iterator[list[list[tuple[str, str]]]]:
    """Record the questions of every round of the file selection's closure
    (``select.questions`` is called once a round); none when it is not run."""
    import qemu_lint.select as sel

    real = sel.questions
    seen: list[list[tuple[str, str]]] = []

    def spy(w: Any) -> list[tuple[str, str]]:
        got = real(w)
        seen.append(list(got))
        return got

    sel.questions = spy  # a spy with the same behaviour, restored below
    try:
        yield seen
    finally:
        sel.questions = real


def _insert_after_line(path: Path, line: int, text: str = INSERTED) -> None:
    lines = qv.read_text(path).split("\n")
    lines.insert(line, text)
    qv.replace_file(path, "\n".join(lines))


def _insert_everywhere(path: Path) -> None:
    """A line comment after line 1 and after every line opening a block (no
    macro continues there, and inside a block comment it is comment text):
    between and inside functions, every later line moves."""
    out: list[str] = []
    for i, line in enumerate(qv.read_text(path).split("\n")):
        out.append(line)
        if i == 0 or line.rstrip().endswith("{"):
            out.append(INSERTED)
    qv.replace_file(path, "\n".join(out))


def _facts(root: Path, rel: str) -> FileFacts:
    from qemu_lint.frontends.treesitter.extract import extract_file
    from qemu_lint.frontends.treesitter.parse import parse_bytes

    data = (root / rel).read_bytes()
    got = extract_file(rel, data, parse_bytes(data))
    assert isinstance(got, FileFacts)
    return got


@pytest.fixture()
def demo(tmp_path: Path) -> Path:
    return materialize(DEMO, tmp_path / "tree")


# -- line_mapped ----------------------------------------------------------


def _fn(line: int, end: int, body_line: int, col: int = 1) -> FileFacts:
    call = Expr(
        "call", body_line, 5, body_line, 12, args=(Expr("name", body_line, 5, body_line, 8, "f"),)
    )
    body = Stmt(
        "block", line, 10, end, 1, body=(Stmt("expr", body_line, 5, body_line, 13, expr=call),)
    )
    fn = FunctionDef("g", TypeRef("void"), (), (), body, line, col, end, False)
    return FileFacts("a.c", "tree-sitter", 100, functions=(fn,))


def test_line_mapped_accepts_lines_moved_in_order_only() -> None:
    old = _fn(3, 5, 4)
    assert line_mapped(old, _fn(4, 6, 5))  # a line inserted above
    assert line_mapped(old, _fn(3, 6, 5))  # a line inserted inside the function
    assert line_mapped(old, old)
    assert not line_mapped(old, _fn(3, 5, 4, col=2))  # a column moved
    assert not line_mapped(old, _fn(3, 5, 3))  # two lines became one
    assert not line_mapped(old, _fn(6, 5, 4))  # the order of lines changed
    other = FileFacts("a.c", "tree-sitter", 100, functions=(_fn(3, 5, 4).functions[0],) * 2)
    assert not line_mapped(old, other)  # another function
    renamed = _fn(3, 5, 4)
    renamed = FileFacts("b.c", "tree-sitter", 100, functions=renamed.functions)
    assert not line_mapped(old, renamed)


# -- the rounds' questions do not depend on lines -------------------------


def test_lines_inserted_everywhere_ask_the_same_questions(demo: Path, tmp_path: Path) -> None:
    """The claim behind ``select.replayed_choice``: with lines inserted in
    every chosen file, between and inside functions, the closure (run
    without cache) asks the same questions in every round and chooses the
    same files, though the findings move."""
    with rounds_asked() as before:
        cold = _check(demo, None)
    found = [f.file for f in cold.findings]
    assert before and found, "the demo tree has a finding and rounds"
    moved = materialize(DEMO, tmp_path / "moved")
    import qemu_lint.select as sel
    from qemu_lint.cache.session import Session

    session = Session(default_config(root=str(demo), jobs=1))
    files = [p for p in session.files.paths if (demo / p).suffix in (".c", ".h")]
    for rel in files:
        _insert_everywhere(moved / rel)
    for rel in files:  # the premise: each file's facts moved by lines only
        assert line_mapped(_facts(demo, rel), _facts(moved, rel)), rel
    assert any(_facts(demo, rel) != _facts(moved, rel) for rel in files)
    with rounds_asked() as after:
        edited = _check(moved, None)
    assert after == before
    assert [f.file for f in edited.findings] == found
    assert [f.line for f in edited.findings] != [f.line for f in cold.findings]
    assert sel.questions.__name__ == "questions"  # the spy was removed


# -- a check with a cache after such an edit ------------------------------


def test_an_inserted_comment_line_takes_the_recorded_rounds(demo: Path, tmp_path: Path) -> None:
    """A comment line inserted above a finding: the changed file is parsed
    once (to compare its facts), no round of the closure runs, the rules do,
    and the report is a run without cache's; the next run is warm."""
    cache = tmp_path / "cache"
    before = _check(demo, cache)
    (site,) = before.findings
    _insert_after_line(demo / site.file, 1)
    with files_parsed() as parsed, rounds_asked() as asked:
        after = _check(demo, cache)
    assert parsed == [site.file] and asked == []
    assert [f.line for f in after.findings] == [site.line + 1]
    fresh = _check(demo, None)
    assert _key(after) == _key(fresh) and _stats(after) == _stats(fresh)
    with files_parsed() as parsed, rounds_asked() as asked:
        again = _check(demo, cache)
    assert parsed == [] and asked == [] and _key(again) == _key(fresh)


@pytest.mark.parametrize(
    ("line", "rounds_run"),
    [
        # a comment line inside the finding's function: the recorded rounds
        ("    /* the release follows */", False),
        # a statement there changes the facts otherwise than by lines
        ("    (void)0;", True),
    ],
)
def test_a_line_inserted_inside_a_function(
    demo: Path, tmp_path: Path, line: str, rounds_run: bool
) -> None:
    """Whether the closure runs again or not, the report is a run without
    cache's (the finding one line lower)."""
    cache = tmp_path / "cache"
    before = _check(demo, cache)
    (site,) = before.findings
    _insert_after_line(demo / site.file, site.line - 1, line)
    with rounds_asked() as asked:
        after = _check(demo, cache)
    assert bool(asked) == rounds_run
    assert _key(after) == _key(_check(demo, None))
    assert [f.line for f in after.findings] == [site.line + 1]


def test_a_changed_answer_runs_the_closure(demo: Path, tmp_path: Path) -> None:
    """A comment line naming a word the selection looks for, in a file it
    left out, changes an answer of the token index: the closure runs again
    (though the chosen file's facts only moved by a line)."""
    from tests.test_cache import _chosen

    cache = tmp_path / "cache"
    chosen = set(_chosen(demo))
    other = next(p for p in ("target/riscv/cpu.c", "target/arm/cpu.c") if p not in chosen)
    before = _check(demo, cache)
    (site,) = before.findings
    _insert_after_line(demo / site.file, 1)
    _insert_after_line(demo / other, 1, "/* AcpiCpuStatus */")
    with rounds_asked() as asked, files_parsed() as parsed:
        after = _check(demo, cache)
    assert asked and other in parsed
    assert _key(after) == _key(_check(demo, None))


# -- QEMU 10.0.13 -----------------------------------------------------------


def _json(root: Path, cache: Path | None, capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    from qemu_lint.cli.main import main

    args = ["check", str(root), "--format", "json", "--jobs", "1", *extra]
    args += ["--cache-dir", str(cache)] if cache else ["--no-cache"]
    main(args)
    out = capsys.readouterr().out
    return re.sub(r'"seconds": [0-9.e-]+', '"seconds": 0', out)


@pytest.mark.real_qemu
def test_real_qemu_an_inserted_line_takes_the_recorded_rounds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The bench's EDIT row on a copy of 10.0.13: a line inserted after line
    1 of hw/acpi/cpu.c.  No round of the closure runs; the report (JSON, but
    for its seconds) is a run without cache's, the finding one line lower."""
    root = qv.make_variant(qemu_tree("10.0.13"), tmp_path / "tree", {})
    cache = tmp_path / "cache"
    _json(root, cache, capsys)
    _insert_after_line(root / "hw/acpi/cpu.c", 1, "/* a line inserted by bench.py */")
    with rounds_asked() as asked, files_parsed() as parsed:
        warm = _json(root, cache, capsys)
    assert asked == [] and parsed == ["hw/acpi/cpu.c"]
    doc = json.loads(warm)
    got = [(f["file"], f["line"], f["archs"]) for f in doc["findings"]]
    assert got == [("hw/acpi/cpu.c", 293, ["i386", "loongarch"])], got
    assert warm == _json(root, None, capsys)


# -- the build configuration's answers --------------------------------------


def test_build_answers_ask_the_configuration_once_and_only_when_not_recorded() -> None:
    from qemu_lint.model.reach import BuildAnswers

    class Config:
        asked: list[str] = []

        def for_arch(self, arch: str) -> tuple[str, ...]:
            self.asked.append(arch)
            return ("target",) if arch == "i386" else ()

        def is_built(self, arch: str, file: str) -> bool | None:
            return True

        def evidence(self, arch: str, file: str) -> str:
            return f"{arch} builds {file}"

    loads: list[int] = []
    config = Config()

    def load() -> Any:
        loads.append(1)
        return config

    recorded: dict[tuple[str, str, str], object] = {("uses", "arm", ""): False}
    got = BuildAnswers(load, recorded)
    assert got.uses("arm") is False and loads == []  # recorded: nothing loaded
    assert got.uses("i386") and got.uses("i386") and loads == [1] and config.asked == ["i386"]
    assert got.is_built("i386", "a.c") is True and got.evidence("i386", "a.c") == "i386 builds a.c"
    assert recorded == {  # every answer kept, to be recorded
        ("uses", "arm", ""): False,
        ("uses", "i386", ""): True,
        ("built", "i386", "a.c"): True,
        ("evidence", "i386", "a.c"): "i386 builds a.c",
    }


@contextmanager
def build_loaded() -> Iterator[list[str]]:
    """Record every load of the build configuration from the cache and
    every computation of it."""
    import qemu_lint.select as sel
    from qemu_lint.cache.store import Cache

    seen: list[str] = []
    real_get, real_load = Cache.get_build, sel.load_build_config

    def get(self: Cache, key: str) -> object:
        seen.append("get")
        return real_get(self, key)

    def compute(*args: Any, **kwargs: Any) -> Any:
        seen.append("compute")
        return real_load(*args, **kwargs)

    Cache.get_build = get  # type: ignore[method-assign]  # spies, restored below
    sel.load_build_config = compute
    try:
        yield seen
    finally:
        Cache.get_build = real_get  # type: ignore[method-assign]
        sel.load_build_config = real_load


def test_an_edit_with_the_same_build_inputs_does_not_load_the_build(
    demo: Path, tmp_path: Path
) -> None:
    """A check after an edit that is not of a build file (here a statement
    added: the closure and the rules run) answers the attribution from the
    recorded answers: the build configuration is neither loaded nor
    computed, and the report is a run without cache's."""
    (demo / "meson.build").write_text("project('demo')\n")
    cache = tmp_path / "cache"
    before = _check(demo, cache)
    (site,) = before.findings
    _insert_after_line(demo / site.file, site.line - 1, "    (void)0;")
    with build_loaded() as loaded, rounds_asked() as asked:
        after = _check(demo, cache)
    assert asked and loaded == []
    assert _key(after) == _key(_check(demo, None))
    (demo / "meson.build").write_text("project('demo')\n# changed\n")
    with build_loaded() as loaded:
        changed = _check(demo, cache)
    assert loaded, "a changed build input: the configuration is computed again"
    assert _key(changed) == _key(_check(demo, None))
