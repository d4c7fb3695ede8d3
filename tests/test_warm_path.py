"""The selection's rounds share one run's call-graph parts, and a warm
pre-commit run parses nothing and imports no front-end
(docs/performance.md, "Design of a warm run").

Observed through the run's counters (:class:`qemu_lint.model.IndexMemo`)
and ``sys.modules`` in a subprocess, never through timing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from qemu_lint.engine import run_model
from qemu_lint.model.callgraph import build_index
from qemu_lint.rules import default_config
from tests.conftest import SAMPLES, run_check_json
from tests.test_diff_base import git

DEMO = SAMPLES / "trees" / "demo"


def test_the_selection_indexes_each_file_once() -> None:
    """Each round's model takes the earlier rounds' files from the run's
    memo: a file's function bodies are walked once per run, not once per
    round (a model rebuilt from scratch per round would walk the first
    round's files once per round)."""
    model, _ = run_model(default_config(str(DEMO), jobs=1))
    memo = model.memo
    assert memo is not None
    assert memo.builds >= 3  # the demo's closure takes several rounds
    assert memo.files_indexed == len(model.files)


def test_the_grown_index_is_the_index_built_from_scratch() -> None:
    """The merged per-file parts give the lists a fresh index gives, in the
    same order (the order shows in the output)."""
    model, fr = run_model(default_config(str(DEMO), jobs=1))
    fresh = build_index(fr.facts, model.env)
    grown = model.index
    assert model.memo is not None and model.memo.builds > 1
    for name in (
        "functions",
        "by_name",
        "direct_calls",
        "field_calls",
        "registrations",
        "assigns",
        "local_pointers",
        "pointer_calls",
        "address_taken",
    ):
        assert getattr(grown, name) == getattr(fresh, name), name
    assert list(grown.direct_calls) == list(fresh.direct_calls)


#: run in a subprocess: the hook's check, then what it imported
_HOOK = """
import sys
from qemu_lint.cli.main import main
status = main(sys.argv[1:])
front = sorted(m for m in sys.modules if m.startswith(
    ("tree_sitter", "clang", "qemu_lint.frontends.treesitter", "qemu_lint.frontends.clang",
     "qemu_lint.build", "multiprocessing", "concurrent")))
print("IMPORTED", status, front, file=sys.stderr)
"""


def _hook(repo: Path, cache: Path) -> tuple[dict[str, object], str]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(Path(__file__).parents[1])]))
    args = ["check", "--cache-dir", str(cache), "--diff-base", "HEAD", "--format", "json"]
    r = subprocess.run(
        [sys.executable, "-c", _HOOK, *args, "qemu/hw/acpi/cpu.c"],
        cwd=repo,
        capture_output=True,
        text=True,
        env=env,
    )
    assert r.returncode in (0, 1), r.stderr
    return json.loads(r.stdout), r.stderr.rsplit("IMPORTED ", 1)[1]


def _demo_repo_with_edit(tmp_path: Path, comment: str) -> Path:
    """A git repository holding the demo tree in ``qemu/``, committed, with
    ``comment`` then put first in hw/acpi/cpu.c (not committed)."""
    repo = tmp_path / "repo"
    shutil.copytree(DEMO, repo / "qemu")
    git(repo.parent, "init", "-q", str(repo))
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "demo")
    cpu_c = repo / "qemu" / "hw" / "acpi" / "cpu.c"
    cpu_c.write_text(comment + "\n" + cpu_c.read_text(encoding="utf-8"), encoding="utf-8")
    return repo


def test_a_warm_pre_commit_run_parses_nothing(tmp_path: Path) -> None:
    """The hook run repeated with nothing changed (one staged line): every
    answer comes from the records, so no front-end (nor the build
    configuration's modules, nor a process pool) is imported.  (Hyperscan
    is: pathspec imports it with its backends.)"""
    repo = _demo_repo_with_edit(tmp_path, "/* staged */")
    git(repo, "add", ".")
    cache = tmp_path / "cache"
    first, imported = _hook(repo, cache)
    assert "tree_sitter" in imported  # the first run parses the files
    again, imported = _hook(repo, cache)
    assert imported.split(None, 1)[1].strip() == "[]", imported
    assert again["findings"] == first["findings"]


def test_the_state_at_the_diff_base_shares_the_work_trees_facts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without a cache, a ``--diff-base`` run parses at the revision only the
    files that differ: the unchanged ones' facts (and their call-graph parts)
    are the work tree's run's."""
    from qemu_lint.cache import session

    parsed: list[str] = []
    real = session.extract_files

    def extract_files(items: Any, jobs: int, workers: Any = None) -> Any:
        parsed.extend(sf.path for sf, _ in items)
        return real(items, jobs, workers)

    monkeypatch.setattr(session, "extract_files", extract_files)
    repo = _demo_repo_with_edit(tmp_path, "/* changed */")
    status, doc = run_check_json(capsys, "--no-cache", "--diff-base", "HEAD", str(repo / "qemu"))
    assert status == 0 and doc["findings"] == []
    assert parsed.count("hw/acpi/cpu.c") == 2  # once per state
    assert len(parsed) == len(set(parsed)) + 1  # every other file once
