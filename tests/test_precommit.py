"""pre-commit, for real (docs/ci.md#pre-commit): the hooks of ``.pre-commit-hooks.yaml``
installed by pre-commit from this checkout and run on a throwaway git repository
made from ``samples/trees/demo``.

``pre-commit try-repo <checkout>`` installs the hook repository with pip in a
fresh environment of its own (one per call), from the checkout's git-tracked
files: uncommitted changes to tracked files and staged new files are included
(try-repo commits them to a shadow clone), untracked files are not.  The
docs/ci.md snippet is run too, with ``pre-commit run`` and a snapshot of the
checkout made the same way, once per test run.  ``PRE_COMMIT_HOME`` is a
temporary folder of the test run (shared by its workers), so nothing is left
behind.  The tests are skipped, with the reason, only when pip cannot reach a
package index (or the checkout is not a git repository, which try-repo needs).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO, SAMPLES, once_per_run, run_dir

pytestmark = pytest.mark.precommit

DEMO = SAMPLES / "trees" / "demo"
TIMEOUT = 900

# The demo's one finding is the unguarded release in the eject path; the base
# repository guards it so that it starts clean.
#: the eject release and the unparent before it: guarding the release alone
#: would keep a pointer to a destroyed vCPU (acpi-cpu-kept-alive)
EJECT = (
    "    object_unparent(OBJECT(dev));\n    cdev->cpu = NULL;  /* expect: acpi-cpu-persistence */\n"
)
EJECT_GUARDED = (
    "    if (!should_remain_acpi_present(dev)) {\n"
    "        object_unparent(OBJECT(dev));\n"
    "        cdev->cpu = NULL;\n"
    "    }\n"
)
UNPLUG_GUARDED = (
    "    if (!should_remain_acpi_present(dev)) {\n"
    "        cdev->cpu = NULL;  /* ok: guarded by should_remain_acpi_present() */\n"
    "    }\n"
)
UNPLUG_BAD = "    cdev->cpu = NULL;\n"
INC = """/* the slot bookkeeping of hw/acpi/cpu.c */

static void acpi_cpu_forget(AcpiCpuStatus *cdev)
{
    cdev->cpu = NULL;
}
"""


def _env(home: Path) -> dict[str, str]:
    """The environment without the caller's git state (pytest may itself run in a
    git hook) or global git configuration, and with a private PRE_COMMIT_HOME."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PRE_COMMIT"))}
    env.update(
        PRE_COMMIT_HOME=str(home),
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_NAME="qemu-lint tests",
        GIT_AUTHOR_EMAIL="tests@qemu-lint.invalid",
        GIT_COMMITTER_NAME="qemu-lint tests",
        GIT_COMMITTER_EMAIL="tests@qemu-lint.invalid",
        NO_COLOR="1",
    )
    return env


def _git(cwd: Path, env: dict[str, str], *args: str) -> str:
    r = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )
    assert r.returncode == 0, f"git {' '.join(args)}: {r.stderr}"
    return r.stdout


def _precommit(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Check the prerequisites once; return the environment for pre-commit and git.
    ``PRE_COMMIT_HOME`` (pre-commit's store of hook environments) is one
    folder of the test run, shared by the workers: the docs/ci.md snippet's
    hook environment is installed once per run (pre-commit installs under a
    lock of its store, as for two commits at once), not once per worker."""
    base = tmp_path_factory.mktemp("pre-commit")
    env = _env(run_dir() / "pre-commit-home")
    if shutil.which("git") is None:
        pytest.fail("git is not installed; pre-commit needs it")
    r = subprocess.run(
        [sys.executable, "-m", "pre_commit", "--version"], capture_output=True, text=True
    )
    if r.returncode != 0:
        pytest.fail("pre-commit is not installed in this environment: pip install '.[test]'")
    inside = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--is-inside-work-tree"],
        capture_output=True,
        text=True,
        env=env,
    )
    if inside.returncode != 0 or inside.stdout.strip() != "true":
        pytest.skip(f"{REPO} is not a git checkout: pre-commit try-repo needs one")
    # pre-commit installs the hook repository with pip: can pip reach a package index?
    probe = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--dest",
            str(base / "probe"),
            "setuptools>=68",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    if probe.returncode != 0:
        last = (probe.stderr or probe.stdout).strip().splitlines()[-1:] or ["no output"]
        pytest.skip(f"pip cannot reach a package index to install the hook: {last[0]}")
    yield env


@pytest.fixture
def demo(tmp_path: Path, setup: dict[str, str]) -> Path:
    """A git repository holding the demo tree, its one finding fixed, committed."""
    repo = tmp_path / "qemu"
    shutil.copytree(DEMO, repo)
    cpu = repo / "hw" / "acpi" / "cpu.c"
    text = cpu.read_text()
    assert EJECT in text and UNPLUG_GUARDED in text
    cpu.write_text(text.replace(EJECT, EJECT_GUARDED))
    _git(repo, setup, "init", "-q", "-b", "master")
    _git(repo, setup, "add", "-A")
    _git(repo, setup, "commit", "-q", "-m", "demo tree, clean")
    return repo


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def _try_repo(repo: Path, env: dict[str, str], hook: str, *args: str) -> tuple[int, str]:
    r = _precommit(repo, env, "try-repo", str(REPO), hook, "--verbose", *args)
    return r.returncode, r.stdout + r.stderr


def _finding_lines(output: str) -> list[str]:
    return re.findall(r"^\S+:\d+:\d+: error: .* \[acpi-cpu-persistence\]$", output, re.M)


def test_manifest_is_valid(setup: dict[str, str]) -> None:
    r = _precommit(REPO, setup, "validate-manifest", ".pre-commit-hooks.yaml")
    assert r.returncode == 0, r.stdout + r.stderr
    import yaml  # a dependency of pre-commit

    hooks = {h["id"]: h for h in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())}
    assert set(hooks) == {"qemu-lint", "qemu-lint-tree"}
    per_file, tree = hooks["qemu-lint"], hooks["qemu-lint-tree"]
    assert per_file["language"] == tree["language"] == "python"
    assert per_file["types_or"] == ["c", "inc"] and per_file["require_serial"] is True
    # one run, one summary: pre-commit would split a long file list into several runs
    assert per_file["pass_filenames"] is False and "--staged" in per_file["entry"]
    assert per_file["stages"] == ["pre-commit"] and per_file["verbose"] is True
    assert tree["pass_filenames"] is False and tree["always_run"] is True
    # each stage runs one of the two, so no finding is printed twice
    assert tree["stages"] == ["pre-push", "manual"]


def test_try_repo_per_file_hook(
    demo: Path, setup: dict[str, str], hook_repo: tuple[Path, str]
) -> None:
    cpu = demo / "hw" / "acpi" / "cpu.c"
    # a good change, staged: passes.  Run by `pre-commit run` with the config
    # try-repo writes (this hook of a repository holding the checkout's
    # tracked files), in the module's PRE_COMMIT_HOME, which installs the
    # hook environment once for the module: try-repo itself installs it
    # afresh on every call (a temporary store), about 13 s of CPU each
    _edit(cpu, "/* OSPM ran _EJ0 on the selected vCPU */", "/* OSPM ran _EJ0 on this vCPU */")
    _git(demo, setup, "add", "hw/acpi/cpu.c")
    path, rev = hook_repo
    config = f"repos:\n- repo: {path}\n  rev: {rev}\n  hooks:\n  - id: qemu-lint\n"
    status, out = _run(demo, setup, config, "--verbose")
    assert status == 0, out
    assert re.search(r"^qemu-lint\.+Passed$", out, re.M), out
    # a bad change, staged: fails, naming the release (try-repo of the checkout)
    (demo / ".pre-commit-config.yaml").unlink()
    _edit(cpu, UNPLUG_GUARDED, UNPLUG_BAD)
    _git(demo, setup, "add", "hw/acpi/cpu.c")
    status, out = _try_repo(demo, setup, "qemu-lint")
    assert status == 1, out
    assert re.search(r"^qemu-lint\.+Failed$", out, re.M), out
    [line] = _finding_lines(out)
    assert line.startswith("hw/acpi/cpu.c:")


def test_try_repo_whole_tree_hook(demo: Path, setup: dict[str, str]) -> None:
    # committed, nothing staged: the whole-tree hook runs all the same, and fails
    _edit(demo / "hw" / "acpi" / "cpu.c", UNPLUG_GUARDED, UNPLUG_BAD)
    _git(demo, setup, "commit", "-q", "-a", "-m", "bad")
    status, out = _try_repo(demo, setup, "qemu-lint-tree", "--hook-stage", "manual")
    assert status == 1, out
    assert re.search(r"^qemu-lint \(whole tree\)\.+Failed$", out, re.M), out
    assert len(_finding_lines(out)) == 1


def _snapshot(dest: Path, env: dict[str, str]) -> str:
    """A repository holding the checkout's git-tracked files as they are on disk
    (what try-repo installs); return its commit."""
    listed = _git(REPO, env, "ls-files", "-z").split("\0")
    for rel in filter(None, listed):
        src = REPO / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    _git(dest, env, "init", "-q")
    _git(dest, env, "add", "-A")
    _git(dest, env, "commit", "-q", "-m", "snapshot")
    return _git(dest, env, "rev-parse", "HEAD").strip()


@pytest.fixture(scope="module")
def hook_repo(setup: dict[str, str]) -> tuple[Path, str]:
    """A snapshot of this checkout (:func:`_snapshot`) and its commit, made
    once per test run: the workers install the same hook repository."""

    def make() -> tuple[str, str]:
        path = tempfile.mkdtemp(prefix="pre-commit-hook-repo-", dir=run_dir())
        return path, _snapshot(Path(path), setup)

    path, rev = once_per_run("pre-commit-hook-repo", make)
    return Path(path), rev


@pytest.fixture(scope="module")
def snippet_config(setup: dict[str, str], hook_repo: tuple[Path, str]) -> str:
    """docs/ci.md's .pre-commit-config.yaml, its placeholders replaced by a
    snapshot of this checkout.  The hook environment is installed once (the
    module shares PRE_COMMIT_HOME)."""
    text = (REPO / "docs" / "ci.md").read_text(encoding="utf-8")
    section = text[text.index("## pre-commit") :]
    m = re.search(r"```yaml\n(repos:\n.*?)```", section, re.S)
    assert m, "docs/ci.md: no .pre-commit-config.yaml snippet in the pre-commit section"
    path, rev = hook_repo
    config, n = re.subn(r"(?m)^(\s*- repo:) .*$", rf"\1 {path}", m.group(1))
    config, k = re.subn(r"(?m)^(\s*rev:) .*$", rf"\1 {rev}", config)
    assert n == k == 1, m.group(1)
    return config


def _run(demo: Path, env: dict[str, str], config: str, *args: str) -> tuple[int, str]:
    (demo / ".pre-commit-config.yaml").write_text(config)
    r = _precommit(demo, env, "run", "--config", ".pre-commit-config.yaml", *args)
    return r.returncode, r.stdout + r.stderr


def test_readme_snippet(demo: Path, setup: dict[str, str], snippet_config: str) -> None:
    status, out = _run(demo, setup, snippet_config, "--hook-stage", "manual", "--all-files")
    assert status == 0, out
    assert re.search(r"^qemu-lint \(whole tree\)\.+Passed$", out, re.M), out
    assert not re.search(r"^qemu-lint\.+", out, re.M), out  # not a manual-stage hook
    status, out = _run(demo, setup, snippet_config, "--all-files")
    assert status == 0, out
    assert re.search(r"^qemu-lint\.+Passed$", out, re.M), out
    assert out.count("Found 0 findings in 0 files.") == 1, out  # one run, one summary
    _edit(demo / "hw" / "acpi" / "cpu.c", UNPLUG_GUARDED, UNPLUG_BAD)
    _git(demo, setup, "add", "hw/acpi/cpu.c")
    status, out = _run(demo, setup, snippet_config)  # pre-commit stage: the per-file hook
    assert status == 1, out
    assert re.search(r"^qemu-lint\.+Failed$", out, re.M), out
    assert "whole tree" not in out
    assert len(_finding_lines(out)) == 1


def test_hook_sees_the_staged_version(
    demo: Path, setup: dict[str, str], snippet_config: str
) -> None:
    cpu = demo / "hw" / "acpi" / "cpu.c"
    _edit(cpu, "/* OSPM ran _EJ0 on the selected vCPU */", "/* OSPM ran _EJ0 on this vCPU */")
    _git(demo, setup, "add", "hw/acpi/cpu.c")
    _edit(cpu, UNPLUG_GUARDED, UNPLUG_BAD)  # not staged
    status, out = _run(demo, setup, snippet_config)
    assert status == 0, out
    assert UNPLUG_BAD in cpu.read_text()  # pre-commit put the unstaged change back
    _git(demo, setup, "add", "hw/acpi/cpu.c")
    status, out = _run(demo, setup, snippet_config)
    assert status == 1, out


def test_per_file_hook_runs_on_c_inc_files(
    demo: Path, setup: dict[str, str], snippet_config: str
) -> None:
    (demo / "hw" / "acpi" / "cpu-forget.c.inc").write_text(INC)
    _git(demo, setup, "add", "hw/acpi/cpu-forget.c.inc")
    status, out = _run(demo, setup, snippet_config)
    assert status == 1, out
    [line] = _finding_lines(out)
    assert line.startswith("hw/acpi/cpu-forget.c.inc:5:5: error: ")


def test_old_finding_passes_with_a_note_new_one_fails_alone(
    demo: Path, setup: dict[str, str], snippet_config: str
) -> None:
    cpu = demo / "hw" / "acpi" / "cpu.c"
    _edit(cpu, UNPLUG_GUARDED, UNPLUG_BAD)
    _git(demo, setup, "commit", "-q", "-a", "-m", "bad")  # the finding is at HEAD now
    # a commit touching the file with the old finding passes, saying so in one line
    _edit(cpu, "/* OSPM ran _EJ0 on the selected vCPU */", "/* OSPM ran _EJ0 on this vCPU */")
    _git(demo, setup, "add", "hw/acpi/cpu.c")
    status, out = _run(demo, setup, snippet_config)
    assert status == 0, out
    assert re.search(r"^qemu-lint\.+Passed$", out, re.M), out
    assert _finding_lines(out) == []
    assert "(1 finding already present at HEAD, not blocking)." in out, out
    # a commit adding a new finding fails and shows only the new one
    _edit(cpu, EJECT_GUARDED, EJECT.replace("  /* expect: acpi-cpu-persistence */", ""))
    _git(demo, setup, "add", "hw/acpi/cpu.c")
    status, out = _run(demo, setup, snippet_config)
    assert status == 1, out
    [line] = _finding_lines(out)
    assert "acpi_cpu_eject" in out and line.startswith("hw/acpi/cpu.c:")
    assert "Found 1 finding in 1 file (1 finding already present at HEAD, not blocking)." in out
    # the whole-tree hook by hand sees both
    status, out = _run(demo, setup, snippet_config, "--hook-stage", "manual")
    assert status == 1, out
    assert re.search(r"^qemu-lint \(whole tree\)\.+Failed$", out, re.M), out
    assert len(_finding_lines(out)) == 2


def test_pre_push_prints_each_finding_once(
    demo: Path, setup: dict[str, str], snippet_config: str
) -> None:
    base = _git(demo, setup, "rev-parse", "HEAD").strip()
    _edit(demo / "hw" / "acpi" / "cpu.c", UNPLUG_GUARDED, UNPLUG_BAD)
    _git(demo, setup, "commit", "-q", "-a", "-m", "bad")
    head = _git(demo, setup, "rev-parse", "HEAD").strip()
    args = ("--hook-stage", "pre-push", "--from-ref", base, "--to-ref", head)
    status, out = _run(demo, setup, snippet_config, *args)
    assert status == 1, out
    assert not re.search(r"^qemu-lint\.+", out, re.M), out  # the per-file hook is pre-commit only
    assert re.search(r"^qemu-lint \(whole tree\)\.+Failed$", out, re.M), out
    assert len(_finding_lines(out)) == 1


def test_readme_install_lines_resolve(setup: dict[str, str], tmp_path: Path) -> None:
    """README.md's install lines, run as it says (in the checkout's top folder,
    by a shell): pip resolves each to qemu-lint (``--dry-run``: nothing is
    installed).  No placeholder is left to fill in."""
    import json

    text = (REPO / "README.md").read_text(encoding="utf-8")
    lines = re.findall(r"^(pip install \S+)", text, re.M)
    assert len(lines) == 3, lines
    assert not any("/path/to" in ln for ln in lines)
    for n, line in enumerate(lines):
        report = tmp_path / f"report-{n}.json"
        # --ignore-installed: CI's venv already has qemu-lint, still resolve it
        opts = "-q --dry-run --no-deps --ignore-installed"
        r = subprocess.run(
            ["bash", "-c", f"{shlex.quote(sys.executable)} -m {line} {opts} --report {report}"],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            env=setup,  # fmt: skip
        )
        assert r.returncode == 0, r.stderr
        [item] = json.loads(report.read_text())["install"]
        assert item["metadata"]["name"] == "qemu-lint"
        if "[clang]" in line:
            assert item["requested_extras"] == ["clang"]
            assert any(d.startswith("libclang") for d in item["metadata"]["requires_dist"])
