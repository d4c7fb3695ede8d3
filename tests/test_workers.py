"""The file selection's worker processes: a round's files shared between
this process and the workers, and the build configuration computed in one
of them beside the rounds, give what one process gives."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from qemu_lint.frontends import pool
from qemu_lint.source import SourceFile
from tests.conftest import SAMPLES, materialize, run_check_json

DEMO = SAMPLES / "trees" / "demo"


def _tree(tmp_path: Path, with_build: bool) -> Path:
    """The demo tree, with build-mini's meson.build and Kconfig files or not."""
    root = materialize(DEMO, tmp_path / "tree")
    if with_build:
        shutil.copytree(SAMPLES / "trees" / "build-mini", root, dirs_exist_ok=True)
    return root


def test_shares_are_even_and_in_order() -> None:
    sizes = [5, 100, 1, 60, 40, 3, 2]
    shares = pool._shares(sizes, 2)
    assert sorted(i for s in shares for i in s) == list(range(len(sizes)))
    assert all(s == sorted(s) for s in shares)
    sums = sorted(sum(sizes[i] for i in s) for s in shares)
    assert sums == [105, 106]
    assert pool._shares([7], 3) == [[0]]  # no empty share


def _sources(root: Path) -> list[tuple[SourceFile, bytes]]:
    out = []
    for p in sorted(root.rglob("*.[ch]")):
        rel = p.relative_to(root).as_posix()
        out.append((SourceFile(rel, str(p), p.stat().st_size), p.read_bytes()))
    return out


def test_a_round_shared_with_workers_gives_the_facts_of_one_process() -> None:
    items = _sources(DEMO) + _sources(SAMPLES / "trees" / "build-mini")
    assert len(items) >= pool.PARALLEL
    with pool.Workers(2) as workers:
        shared = pool.extract_files(items, 2, workers)
        assert workers._pool is not None  # the workers did take part
    assert shared == pool.extract_files(items, 1)
    assert [f.path for f in shared] == [sf.path for sf, _ in items]


def _report(capsys: pytest.CaptureFixture[str], root: Path, jobs: str) -> dict[str, Any]:
    _, doc = run_check_json(capsys, "--no-cache", "--jobs", jobs, str(root))
    doc["stats"].pop("seconds")
    return doc


def _spy_builds(monkeypatch: pytest.MonkeyPatch, log: Path, fail_in_worker: bool) -> None:
    """Log the process computing each build configuration to ``log`` (a
    worker forked after this inherits the spy); optionally make it fail in
    a worker."""
    import qemu_lint.build as build

    real, main = build.load_build_config, os.getpid()

    def spy(*args: Any, **kwargs: Any) -> Any:
        with open(log, "a") as fh:
            fh.write(f"{'main' if os.getpid() == main else 'worker'}\n")
        if fail_in_worker and os.getpid() != main:
            raise RuntimeError("a worker's failure")
        return real(*args, **kwargs)

    monkeypatch.setattr(build, "load_build_config", spy)


@pytest.mark.parametrize("with_build", [False, True], ids=["no-meson", "meson"])
def test_the_build_configuration_is_computed_in_a_worker(
    with_build: bool,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = _tree(tmp_path, with_build)
    alone = _report(capsys, root, "1")
    log = tmp_path / "builds"
    _spy_builds(monkeypatch, log, fail_in_worker=False)
    assert json.dumps(_report(capsys, root, "2")) == json.dumps(alone)
    assert log.read_text().split() == ["worker"]


def test_a_failed_worker_leaves_the_build_configuration_to_this_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _tree(tmp_path, with_build=True)
    alone = _report(capsys, root, "1")
    log = tmp_path / "builds"
    _spy_builds(monkeypatch, log, fail_in_worker=True)
    assert json.dumps(_report(capsys, root, "2")) == json.dumps(alone)
    assert log.read_text().split() == ["worker", "main"]


def test_the_build_configuration_comes_before_any_attribution() -> None:
    """A model that attributed a path cannot be given a build configuration
    afterwards (the attribution would not have seen it)."""
    from qemu_lint.engine import run_model
    from qemu_lint.rules import default_config

    model, _ = run_model(default_config(root=str(DEMO), cache_dir=None, jobs=1))
    site = model.acpi.sites[0]
    model.attribute(site.function_ref, model.archs[0])
    with pytest.raises(AssertionError):
        model.with_build(None)
