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


#: run in a subprocess: the command, then the modules a run taking its
#: diagnostics from the records does not need (docs/performance.md)
_LAZY = """
import sys
from qemu_lint.cli.main import main
status = main(sys.argv[1:])
lazy = sorted(m for m in sys.modules if m.startswith(
    ("qemu_lint.model.", "qemu_lint.select", "qemu_lint.frontends.treesitter", "rich",
     "tomllib", "pygments", "qemu_lint.facts")) and m != "qemu_lint.model.settings")
print("IMPORTED", status, lazy, file=sys.stderr)
"""


def _hook(
    repo: Path, cache: Path, script: str = _HOOK, fmt: str = "json"
) -> tuple[dict[str, object], str]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(Path(__file__).parents[1])]))
    args = ["check", "--cache-dir", str(cache), "--diff-base", "HEAD", "--format", fmt]
    r = subprocess.run(
        [sys.executable, "-c", script, *args, "qemu/hw/acpi/cpu.c"],
        cwd=repo,
        capture_output=True,
        text=True,
        env=env,
    )
    assert r.returncode in (0, 1), r.stderr
    doc = json.loads(r.stdout) if fmt == "json" else {"stdout": r.stdout}
    return doc, r.stderr.rsplit("IMPORTED ", 1)[1]


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


def test_a_warm_run_imports_no_model_code_no_rich_and_no_toml(tmp_path: Path) -> None:
    """The hook run repeated, and a check of the unchanged tree, take their
    diagnostics from the records: the model's modules (but the settings it
    declares), the file selection, the facts' dataclasses (no facts are
    loaded), rich (the text is plain: no colour, no terminal) and the TOML
    parser (no configuration file) stay unimported."""
    repo = _demo_repo_with_edit(tmp_path, "/* staged */")
    git(repo, "add", ".")
    cache = tmp_path / "cache"
    _, imported = _hook(repo, cache, _LAZY, "text")
    assert "qemu_lint.model.acpi" in imported and "qemu_lint.facts" in imported  # analysed
    again, imported = _hook(repo, cache, _LAZY, "text")
    assert imported.split(None, 1)[1].strip() == "[]", imported
    assert again["stdout"] == ""  # the finding is present at HEAD: not reported
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).parents[1]))
    whole = [sys.executable, "-c", _LAZY, "check", "--cache-dir", str(cache), "qemu"]
    outputs = []
    for _ in range(2):  # the record of the work tree is the hook run's: both are warm
        r = subprocess.run(whole, cwd=repo, capture_output=True, text=True, env=env)
        assert r.stderr.rsplit("IMPORTED ", 1)[1].strip() == "1 []", r.stderr
        outputs.append(r.stdout)
    assert outputs[1] == outputs[0] and ": error: " in outputs[0]  # the finding, plain lines


def test_an_unchanged_trees_record_is_not_written_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run that finds the tree as its record says writes no record; one
    after an edit does."""
    from qemu_lint.cache.store import Cache
    from qemu_lint.engine import run

    tree = tmp_path / "demo"
    shutil.copytree(DEMO, tree)
    stamp = 1_600_000_000  # long before the run: the stat keys are trusted
    for p in tree.rglob("*"):
        os.utime(p, (stamp, stamp))
    cfg = default_config(str(tree), cache_dir=str(tmp_path / "cache"), jobs=1)
    first = run(cfg)
    written: list[str] = []
    real = Cache.put_tree

    def put_tree(self: Cache, key: str, state: Any) -> None:
        written.append(key)
        real(self, key, state)

    monkeypatch.setattr(Cache, "put_tree", put_tree)
    again = run(cfg)
    assert written == [] and again.findings == first.findings
    cpu_c = tree / "hw" / "acpi" / "cpu.c"
    cpu_c.write_text("/* edited */\n" + cpu_c.read_text(encoding="utf-8"), encoding="utf-8")
    os.utime(cpu_c, (stamp, stamp + 1))
    run(cfg)
    assert len(written) == 1


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
