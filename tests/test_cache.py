"""The facts cache: same results cold, warm and after edits; corrupted entries
rebuilt; concurrent runs; the cache folder's tags; --no-cache writes nothing.

Every test compares a cached run with an uncached run of the same tree, so a
cache that returned stale facts or stale results would fail them.
"""

from __future__ import annotations

import dataclasses
import os
import pickle
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from qemu_lint.engine import run
from qemu_lint.findings import Report
from qemu_lint.rules import default_config
from tests import qemu_variants as qv
from tests.conftest import (
    REPO,
    SAMPLES,
    files_parsed,
    materialize,
    qemu_tree,
    rules_fail,
    shared_facts,
)

DEMO = SAMPLES / "trees" / "demo"
LONG_AGO = time.time() - 3600


def _age(root: Path) -> None:
    """Date every file an hour back, as in a checkout that was not just written:
    only then does a run trust a file's stat instead of reading it again."""
    for dirpath, _, names in os.walk(root):
        for n in names:
            os.utime(os.path.join(dirpath, n), (LONG_AGO, LONG_AGO))


def _key(r: Report) -> list[tuple[object, ...]]:
    return [
        (f.file, f.line, f.column, f.rule, f.kind, f.message, f.archs, f.fingerprint, f.path)
        for f in r.findings
    ]


def _stats(r: Report) -> dict[str, object]:
    d = dataclasses.asdict(r.stats)
    d.pop("seconds")
    return d


def _check(root: Path, cache: Path | None) -> Report:
    return run(default_config(root=str(root), jobs=1, cache_dir=str(cache) if cache else None))


@pytest.fixture()
def demo(tmp_path: Path) -> Path:
    root = materialize(DEMO, tmp_path / "tree")
    _age(root)
    return root


def _entries(cache: Path) -> list[Path]:
    """Every entry of the cache folder (whatever its layout), not its tags."""
    tags = ("CACHEDIR.TAG", ".gitignore")
    return sorted(p for p in cache.rglob("*") if p.is_file() and p.name not in tags)


def test_warm_run_reuses_everything(demo: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cold = _check(demo, None)
    assert cold.findings, "the demo tree has a finding"
    with files_parsed() as parsed:
        first = _check(demo, cache)
    assert _key(first) == _key(cold) and _stats(first) == _stats(cold)
    assert sorted(parsed) == sorted(set(parsed)) and len(parsed) == cold.stats.parsed_files
    with rules_fail():
        broken = _check(demo, None)
    assert not broken.findings and broken.problems, "rules_fail() makes a run that checks fail"
    # nothing changed: no file is parsed and no rule runs (one would crash)
    with files_parsed() as parsed, rules_fail():
        warm = _check(demo, cache)
    assert _key(warm) == _key(cold) and _stats(warm) == _stats(cold)
    assert warm.problems == cold.problems and parsed == []


def test_skipped_files_with_a_warm_cache(demo: Path, tmp_path: Path) -> None:
    """A tree holding a file that cannot be analysed is still reused whole
    when nothing changed, and a newly bad file is reported by a cached run."""
    cache = tmp_path / "cache"
    (demo / "hw" / "acpi" / "blob.c").write_bytes(b"\0\1binary")
    _age(demo)
    first = _check(demo, cache)
    assert [p.file for p in first.problems] == ["hw/acpi/blob.c"]
    with files_parsed() as parsed, rules_fail():  # reused whole: a rule run would crash
        warm = _check(demo, cache)
    assert parsed == []
    assert _key(warm) == _key(first) and warm.problems == first.problems
    (demo / "hw" / "acpi" / "empty.c").write_bytes(b"")
    later = _check(demo, cache)
    assert sorted(p.file for p in later.problems) == ["hw/acpi/blob.c", "hw/acpi/empty.c"]
    assert _key(later) == _key(first)


def test_edit_is_seen(demo: Path, tmp_path: Path) -> None:
    """A guard added after a cached run removes the finding, as without cache;
    taking it out again brings it back (and the facts of both versions are kept)."""
    cache = tmp_path / "cache"
    before = _check(demo, cache)
    (site,) = before.findings
    target = demo / site.file
    original = target.read_text()
    lines = original.splitlines(keepends=True)
    release = lines[site.line - 1]
    indent = release[: len(release) - len(release.lstrip())]
    # the demo's cpu.c has design 1's wrapper, and the site's function a `dev`
    assert "static bool should_remain_acpi_present(DeviceState *dev)" in original
    guarded = (
        f"{indent}if (!should_remain_acpi_present(dev)) {{\n"
        f"{indent}    {release.strip()}\n{indent}}}\n"
    )
    target.write_text("".join(lines[: site.line - 1]) + guarded + "".join(lines[site.line :]))
    with files_parsed() as parsed:
        after = _check(demo, cache)
    assert parsed == [site.file]  # the edited file; the others' facts come from the cache
    assert _key(after) == _key(_check(demo, None))
    # the flagship finding is gone; the guarded release now keeps the vCPU
    # the object_unparent() above it destroys (acpi-cpu-kept-alive)
    assert [f.rule for f in after.findings] == ["acpi-cpu-kept-alive"], after.findings
    target.write_text(original)
    again = _check(demo, cache)
    assert _key(again) == _key(before)


def test_same_size_edit_within_the_same_second_is_seen(demo: Path, tmp_path: Path) -> None:
    """An edit that keeps the size and the mtime still changes the ctime."""
    cache = tmp_path / "cache"
    before = _check(demo, cache)
    (site,) = before.findings
    target = demo / site.file
    text = target.read_text()
    st = target.stat()
    # same length: comment the release out with a same-size edit
    line = text.splitlines()[site.line - 1]
    body = line.strip()
    new_line = line.replace(body, "/*" + body[2:-2] + "*/")
    assert len(new_line) == len(line)
    target.write_text(text.replace(line, new_line, 1))
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert target.stat().st_size == st.st_size and target.stat().st_mtime_ns == st.st_mtime_ns
    after = _check(demo, cache)
    assert _key(after) == _key(_check(demo, None))
    # no release left in the eject path: the vCPU the guarded one in
    # acpi_cpu_unplug_cb() keeps is unparented (acpi-cpu-kept-alive)
    assert [f.rule for f in after.findings] == ["acpi-cpu-kept-alive"], after.findings


def _chosen(root: Path) -> list[str]:
    """The files the ``check`` selection chooses in ``root`` (a run without cache)."""
    from qemu_lint.engine import collect_facts

    return [f.path for f in collect_facts(default_config(root=str(root), jobs=1)).facts]


def _append_to_line(path: Path, line: int, text: str) -> None:
    """Append ``text`` to line ``line`` of ``path``, replacing the file (it
    may be a hard link to a cached QEMU tree)."""
    lines = qv.read_text(path).split("\n")
    lines[line - 1] += text
    qv.replace_file(path, "\n".join(lines))


def test_a_comment_within_a_line_replays_the_record(demo: Path, tmp_path: Path) -> None:
    """A chosen file whose change leaves its facts as they were (a comment
    appended to a line) is parsed once, to compare its facts; the rules do
    not run, and the report is a fresh run's, its parsed bytes included."""
    cache = tmp_path / "cache"
    before = _check(demo, cache)
    (site,) = before.findings
    _append_to_line(demo / site.file, site.line, " /* still released here */")
    with files_parsed() as parsed, rules_fail():
        after = _check(demo, cache)
    assert parsed == [site.file]
    fresh = _check(demo, None)
    assert _key(after) == _key(fresh) and _stats(after) == _stats(fresh)
    assert after.stats.bytes == before.stats.bytes + len(" /* still released here */")
    with files_parsed() as parsed, rules_fail():  # and recorded: the next run is warm
        again = _check(demo, cache)
    assert parsed == [] and _key(again) == _key(fresh)


def test_a_file_the_selection_left_out_replays_the_record(demo: Path, tmp_path: Path) -> None:
    """A changed file that the selection did not choose, and that still
    answers no question of the recorded run, is neither parsed nor followed
    by a rule run."""
    cache = tmp_path / "cache"
    chosen = set(_chosen(demo))
    other = next(p for p in ("target/riscv/cpu.c", "target/arm/cpu.c") if p not in chosen)
    before = _check(demo, cache)
    (demo / other).write_text((demo / other).read_text() + "\nint bench_unrelated_global;\n")
    with files_parsed() as parsed, rules_fail():
        after = _check(demo, cache)
    assert parsed == []
    assert _key(after) == _key(before) == _key(_check(demo, None))


def test_a_changed_answer_is_not_replayed(demo: Path, tmp_path: Path) -> None:
    """A left-out file that now mentions what the selection looks for (a
    word of its seeds, even in a comment) is a changed answer: the selection
    runs again and parses it, as a run without cache does."""
    cache = tmp_path / "cache"
    chosen = set(_chosen(demo))
    other = next(p for p in ("target/riscv/cpu.c", "target/arm/cpu.c") if p not in chosen)
    before = _check(demo, cache)
    (demo / other).write_text((demo / other).read_text() + "\n/* AcpiCpuStatus */\n")
    assert other in _chosen(demo), "the word makes the selection choose the file"
    with files_parsed() as parsed:
        after = _check(demo, cache)
    assert other in parsed
    assert _key(after) == _key(before) == _key(_check(demo, None))


def test_a_run_without_cache_digests_only_what_it_parses(demo: Path) -> None:
    """Without a record to compare with, a file's digest is computed when
    first asked for: a ``--no-cache`` check digests the files it parses."""
    from qemu_lint.cache.session import Session
    from qemu_lint.engine import _analyse, _selected

    config = default_config(root=str(demo), jobs=1)
    session = Session(config)
    assert dict(session.files.digests) == {}
    _analyse(config, session, _selected(config))
    parsed = set(session.state.chosen["check"])
    assert set(dict(session.files.digests)) == parsed and parsed
    assert len(parsed) < len(session.files.paths)
    # a lookup still gives every file's digest
    from qemu_lint.cache.store import digest

    path = next(p for p in session.files.paths if p not in parsed)
    assert session.files.digests[path] == digest((demo / path).read_bytes())


def test_new_and_removed_files(demo: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    before = _check(demo, cache)
    (site,) = before.findings
    # a new file holding a second unguarded release; then removed again
    extra = demo / "hw" / "acpi" / "extra_unplug.c"
    extra.write_text(
        '#include "hw/acpi/cpu.h"\n\n'
        "void extra_release(AcpiCpuStatus *cdev)\n{\n    cdev->cpu = NULL;\n}\n"
    )
    with_extra = _check(demo, cache)
    assert _key(with_extra) == _key(_check(demo, None))
    assert ("hw/acpi/extra_unplug.c", 5) in {(f.file, f.line) for f in with_extra.findings}
    extra.unlink()
    assert _key(_check(demo, cache)) == _key(before)


def test_suppressions_with_a_warm_cache(demo: Path, tmp_path: Path) -> None:
    """Suppressions are found in files a warm run does not read (their record
    is kept with the tree's), and an edit that removes one is seen."""
    cache = tmp_path / "cache"
    (site,) = _check(demo, cache).findings
    target = demo / site.file
    original = target.read_text()
    lines = original.splitlines(keepends=True)
    allow = "    /* qemu-lint: allow acpi-cpu-persistence -- test: never unplugged */\n"
    target.write_text("".join(lines[: site.line - 1]) + allow + "".join(lines[site.line - 1 :]))
    _age(demo)
    for _ in range(2):  # the second run reads nothing: the record must carry it
        r = _check(demo, cache)
        assert not r.findings and [f.file for f in r.suppressed] == [site.file]
    target.write_text(original)
    r = _check(demo, cache)
    assert [(f.file, f.line) for f in r.findings] == [(site.file, site.line)]
    assert not r.suppressed


def test_corrupted_entries_are_rebuilt(demo: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cold = _check(demo, cache)
    entries = _entries(cache)
    assert entries
    for i, p in enumerate(entries):
        # truncated, garbage, and a valid pickle of the wrong type
        p.write_bytes([b"", b"\x80\x05garbage", pickle.dumps({"not": "facts"})][i % 3])
    again = _check(demo, cache)
    assert _key(again) == _key(cold) and _stats(again) == _stats(cold)
    # the entries were rebuilt: after an edit of one file, only that file is parsed
    (site,) = cold.findings
    with (demo / site.file).open("a") as fh:
        fh.write("/* touched */\n")
    with files_parsed() as parsed:
        touched = _check(demo, cache)
    assert parsed == [site.file] and _key(touched) == _key(cold)


def test_identical_files_keep_their_own_path(tmp_path: Path) -> None:
    """Facts are keyed by path and bytes: two files with the same bytes at
    different paths must each get facts naming their own path."""
    root = materialize(DEMO, tmp_path / "tree")
    src = root / "hw" / "acpi" / "cpu.c"
    twin = root / "hw" / "acpi" / "cpu_twin.c"
    twin.write_bytes(src.read_bytes())
    cache = tmp_path / "cache"
    cold = _check(root, None)
    warm1 = _check(root, cache)
    warm2 = _check(root, cache)
    assert _key(warm1) == _key(cold) == _key(warm2)
    assert {"hw/acpi/cpu.c", "hw/acpi/cpu_twin.c"} <= {f.file for f in cold.findings}


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    e = dict(os.environ, PYTHONPATH=str(REPO))
    e.pop("QEMU_LINT_CACHE_DIR", None)
    e.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "qemu_lint", *args], capture_output=True, text=True, env=e
    )


def test_concurrent_runs(demo: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cmd = [sys.executable, "-m", "qemu_lint", "check", str(demo), "--format", "json"]
    env = dict(os.environ, PYTHONPATH=str(REPO))
    procs = [
        subprocess.Popen(
            [*cmd, "--cache-dir", str(cache)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(4)
    ]
    outs = [p.communicate() for p in procs]
    assert [p.returncode for p in procs] == [1] * 4, [o[1] for o in outs]
    import json

    findings = [json.loads(o[0])["findings"] for o in outs]
    assert all(f == findings[0] for f in findings) and findings[0]
    assert not [p for p in cache.rglob("*") if p.name.startswith(".tmp-")], "temporary files left"
    assert _key(_check(demo, cache)) == _key(_check(demo, None))


def test_default_location_and_no_cache(demo: Path, tmp_path: Path) -> None:
    xdg = tmp_path / "xdg"
    r = _cli("check", str(demo), "--no-cache", "-q", env={"XDG_CACHE_HOME": str(xdg)})
    assert r.returncode == 1, r.stderr
    assert not xdg.exists(), "--no-cache wrote something"
    r = _cli("check", str(demo), "-q", env={"XDG_CACHE_HOME": str(xdg)})
    assert r.returncode == 1, r.stderr
    assert (xdg / "qemu-lint" / "CACHEDIR.TAG").is_file()
    env_dir = tmp_path / "from-env"
    r = _cli("check", str(demo), "-q", env={"QEMU_LINT_CACHE_DIR": str(env_dir)})
    assert r.returncode == 1 and (env_dir / "CACHEDIR.TAG").is_file()


def test_cache_inside_the_tree(demo: Path) -> None:
    cache = demo / ".qemu-lint-cache"
    r = _cli("check", str(demo), "--cache-dir", str(cache), "-q")
    assert r.returncode == 1, r.stderr
    assert (cache / ".gitignore").read_text() == "*\n"
    tag = (cache / "CACHEDIR.TAG").read_text()
    assert tag.startswith("Signature: 8a477f597d28d172789f06886806bc55")
    # a second run over a tree holding its cache gives the same answer
    r2 = _cli("check", str(demo), "--cache-dir", str(cache), "--format", "json")
    r3 = _cli("check", str(demo), "--no-cache", "--format", "json")
    import json

    assert json.loads(r2.stdout)["findings"] == json.loads(r3.stdout)["findings"]


def test_refuses_a_folder_that_is_not_a_cache(demo: Path) -> None:
    """Pointing --cache-dir at the source root must not write .gitignore into it."""
    before = sorted(p.name for p in demo.iterdir())
    r = _cli("check", str(demo), "--cache-dir", str(demo))
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and str(demo) in r.stderr and "CACHEDIR.TAG" in r.stderr
    assert sorted(p.name for p in demo.iterdir()) == before


def test_unwritable_cache_does_not_stop_the_run(demo: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    r = _cli("check", str(demo), "--cache-dir", str(blocker / "cache"), "--format", "json")
    assert r.returncode == 1, r.stderr
    assert "cannot write" in r.stderr and "going on without caching" in r.stderr
    assert r.stdout.startswith("{")


# ---------------------------------------------------------------------------
# Real QEMU: a warm cache sees an edit of hw/acpi/cpu.c
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_copy(tmp_path_factory: pytest.TempPathFactory) -> Callable[[], Path]:
    def make() -> Path:
        src = qemu_tree("10.0.13")
        return qv.make_variant(src, tmp_path_factory.mktemp("qemu-cache"), {})

    return make


@pytest.mark.real_qemu
def test_real_qemu_warm_and_touch(real_copy: Callable[[], Path], tmp_path: Path) -> None:
    root = real_copy()
    cache = tmp_path / "cache"
    cold = _check(root, cache)
    assert [(f.file, f.archs) for f in cold.findings] == [("hw/acpi/cpu.c", ("i386", "loongarch"))]
    warm = _check(root, cache)
    assert _key(warm) == _key(cold) and _stats(warm) == _stats(cold)
    # a comment appended to the release's line: parsed once to compare its
    # facts, the record replayed (no rule runs), the report a fresh run's
    (site,) = cold.findings
    original = qv.read_text(root / site.file)
    _append_to_line(root / site.file, site.line, " /* released */")
    with files_parsed() as parsed, rules_fail():
        commented = _check(root, cache)
    assert parsed == [site.file]
    assert _key(commented) == _key(cold)
    assert commented.stats.bytes == cold.stats.bytes + len(" /* released */")
    qv.replace_file(root / site.file, original)
    # guard the release with design 1 (hook + wrapper): the finding must go,
    # and the eject path's object_unparent() of the kept vCPU is reported
    for rel, edits in qv.D1_GUARDED.items():
        qv.replace_file(root / rel, qv.apply_edits(rel, qv.read_text(root / rel), edits))
    touched = _check(root, cache)
    got = [(f.rule, f.file, f.line) for f in touched.findings]
    assert got == [("acpi-cpu-kept-alive", "hw/acpi/cpu.c", 146)], got
    # the same as a run with no record of this tree: its closure computed
    # afresh, its facts from the test run's cache (filled by other runs)
    assert _key(touched) == _key(_check(root, Path(shared_facts())))


def test_a_build_file_changed_is_a_changed_tree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The results recorded for an unchanged tree are reused only while the
    build configuration's inputs (meson.build, Kconfig, .mak) are unchanged
    too: they decide which targets build which file."""
    import shutil

    from qemu_lint.cache import session

    root = materialize(DEMO, tmp_path / "tree")
    shutil.copytree(SAMPLES / "trees" / "build-mini", root, dirs_exist_ok=True)
    _age(root)
    cache = tmp_path / "cache"
    seen: list[bool] = []
    real = session.Session._compare

    def compare(self: session.Session, shared: session.Session | None) -> bool:
        seen.append(real(self, shared))
        return seen[-1]

    monkeypatch.setattr(session.Session, "_compare", compare)
    first = _check(root, cache)
    second = _check(root, cache)
    assert seen == [False, True]
    assert second.stats.build_not_understood == first.stats.build_not_understood > 0
    meson = root / "meson.build"
    meson.write_bytes(meson.read_bytes() + b"# edited\n")
    third = _check(root, cache)
    assert seen == [False, True, False]
    assert _key(third) == _key(first)


def test_salt_versions_are_importlib_metadatas() -> None:
    """The cache salt reads the front-ends' versions from their dist-info
    folders' names: the same answers as importlib.metadata."""
    from importlib.metadata import version

    from qemu_lint.cache.session import dist_version
    from qemu_lint.frontends import FRONTENDS

    for fe in FRONTENDS.values():
        for dist in fe.dists:
            assert dist_version(dist) == version(dist)
    assert dist_version("no-such-distribution-here") == "?"
