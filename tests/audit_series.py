"""Git repositories with patch series, built at test time for the audit tests.

:func:`demo_repo` makes a repository of ``samples/trees/demo`` (whose
hw/acpi/cpu.c has one unguarded release, in acpi_cpu_eject, and a design-1
wrapper ``should_remain_acpi_present(dev)`` guarding the release in
acpi_cpu_unplug_cb) and commits :data:`SERIES` on top of it.  Author,
committer and dates are fixed, so commit SHAs (and golden files) are stable.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tests import qemu_variants as qv

#: Not from tests.conftest: this module is also used by benchmarks/, without pytest.
DEMO = Path(__file__).resolve().parent.parent / "samples" / "trees" / "demo"
CPU_C = "hw/acpi/cpu.c"

#: Fixed identity and dates for the test repositories' own commits.
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Ada Reviewer",
    "GIT_AUTHOR_EMAIL": "ada@example.org",
    "GIT_COMMITTER_NAME": "Ada Reviewer",
    "GIT_COMMITTER_EMAIL": "ada@example.org",
    "GIT_AUTHOR_DATE": "2025-01-02T03:04:05+00:00",
    "GIT_COMMITTER_DATE": "2025-01-02T03:04:05+00:00",
    "GIT_CONFIG_NOSYSTEM": "1",
}


@dataclass(frozen=True)
class Step:
    subject: str
    body: str
    #: exact replacements in hw/acpi/cpu.c, each anchor found once
    edits: tuple[tuple[str, str], ...]
    #: the verdict the audit must give
    verdict: str


_UNPLUG_GUARDED = (
    "    if (!should_remain_acpi_present(dev)) {\n"
    "        cdev->cpu = NULL;  /* ok: guarded by should_remain_acpi_present() */\n"
    "    }\n"
)

SERIES: tuple[Step, ...] = (
    Step(
        "hw/acpi: document the CPU hotplug register block",
        # a line starting with "From " in the commit message: an mbox splitter
        # that is not git mailsplit cuts the message there
        "From now on the file starts with a comment, which moves every line\n"
        "below it: no finding may count as introduced or fixed for that.\n",
        (
            (
                '#include "qemu/osdep.h"\n',
                "/*\n * CPU hotplug register block.\n *\n * Four registers.\n */\n"
                '#include "qemu/osdep.h"\n',
            ),
        ),
        "clean",
    ),
    Step(
        "hw/acpi/cpu: consult the persistence hook on eject",
        "The eject path released the vCPU without asking the hook.\n",
        (
            (
                "    cdev->cpu = NULL;  /* expect: acpi-cpu-persistence */\n",
                "    if (!should_remain_acpi_present(dev)) {\n        cdev->cpu = NULL;\n    }\n",
            ),
        ),
        # fixes the eject path's release, but the object_unparent() before it
        # now destroys a vCPU the hook keeps (acpi-cpu-kept-alive): 3/5 removes
        # that again by releasing the vCPU unconditionally in acpi_cpu_unplug_cb
        "transient",
    ),
    Step(
        "hw/acpi/cpu: release the vCPU unconditionally on unplug",
        "Drop the check.\n",
        ((_UNPLUG_GUARDED, "    cdev->cpu = NULL;\n"),),
        "introduces",
    ),
    Step(
        "hw/acpi/cpu: forget the vCPU on unplug request",
        "Forget it early.\n",
        (
            (
                "        cdev->is_removing = true;\n",
                "        cdev->is_removing = true;\n        cdev->cpu = NULL;\n",
            ),
        ),
        "transient",
    ),
    Step(
        'Revert "hw/acpi/cpu: forget the vCPU on unplug request"',
        "It broke unplug requests that the guest refuses.\n",
        (
            (
                "        cdev->is_removing = true;\n        cdev->cpu = NULL;\n",
                "        cdev->is_removing = true;\n",
            ),
        ),
        "fixes",
    ),
)


def git(repo: Path, *args: str, stdin: bytes | None = None) -> str:
    """Run git in ``repo`` with the fixed identity; return stdout."""
    env = dict(os.environ, **GIT_ENV)
    for k in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        env.pop(k, None)
    r = subprocess.run(
        ["git", "-C", str(repo), *args],
        input=stdin if stdin is not None else b"",
        capture_output=True,
        env=env,
        check=False,
    )
    assert r.returncode == 0, (args, r.stderr.decode())
    return r.stdout.decode()


def edit(path: Path, edits: Sequence[tuple[str, str]]) -> None:
    """Exact replacements, each anchor found once; the file is replaced, not
    written through (it may be a hard link)."""
    text = path.read_text(encoding="utf-8")
    for old, new in edits:
        assert text.count(old) == 1, (path, old)
        text = text.replace(old, new)
    tmp = path.with_name(path.name + ".tmp-edit")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def commit_step(repo: Path, step: Step, rel: str = CPU_C) -> str:
    edit(repo / rel, step.edits)
    git(repo, "commit", "-q", "-a", "-m", f"{step.subject}\n\n{step.body}")
    return git(repo, "rev-parse", "HEAD").strip()


def init_repo(tree: Path) -> str:
    git(tree, "init", "-q", "-b", "master")
    git(tree, "add", "-A")
    git(tree, "commit", "-q", "-m", "demo tree")
    return git(tree, "rev-parse", "HEAD").strip()


def demo_repo(dest: Path, steps: Sequence[Step] = SERIES) -> tuple[Path, str, list[str]]:
    """A repository of the demo tree with ``steps`` committed on top.

    :return: the repository, the base SHA and the series' SHAs
    """
    shutil.copytree(DEMO, dest)
    base = init_repo(dest)
    return dest, base, [commit_step(dest, s) for s in steps]


# --------------------------------------------------------------------------
# A series on real QEMU 10.0 (design 1 of the persistence hook, docs/usage.md)
# --------------------------------------------------------------------------

_REQUEST = "    cdev->is_removing = true;\n"
#: (subject, edits, verdict): declare CPUClass::cpu_persistent_status and
#: implement it for arm (clean); guard the release in acpi_cpu_unplug_cb()
#: with should_remain_acpi_present() (fixes QEMU's one finding, and leaves the
#: kept vCPU to the eject path's object_unparent(): transient); drop the
#: guard (re-introduces QEMU's finding, removes the other); release the vCPU
#: on unplug request (introduces) and revert that (fixes; the former is
#: transient).
QEMU_STEPS: tuple[tuple[str, qv.Edits, str], ...] = (
    (
        "hw/core: add CPUClass::cpu_persistent_status, implemented by arm",
        qv.merge(qv.HOOK_DECL, qv.ARM_IMPL),
        "clean",
    ),
    (
        "hw/acpi/cpu: keep persistent vCPUs present on unplug",
        qv.merge(qv.wrapper(), qv.release(qv.GUARDED_RELEASE)),
        # fixes QEMU's finding, but cpu_hotplug_wr() then unparents the kept
        # vCPU (acpi-cpu-kept-alive), until the next patch drops the guard
        "transient",
    ),
    (
        "hw/acpi/cpu: release the vCPU unconditionally again",
        {qv.ACPI_CPU_C: [(qv.GUARDED_RELEASE, qv.RELEASE)]},
        # QEMU's own finding, fixed by the patch before: the base has it
        "reintroduces",
    ),
    (
        "hw/acpi/cpu: forget the vCPU on unplug request",
        {qv.ACPI_CPU_C: [(_REQUEST, _REQUEST + "    cdev->cpu = NULL;\n")]},
        "transient",
    ),
    (
        'Revert "hw/acpi/cpu: forget the vCPU on unplug request"',
        {qv.ACPI_CPU_C: [(_REQUEST + "    cdev->cpu = NULL;\n", _REQUEST)]},
        "fixes",
    ),
)
QEMU_EDITED = sorted({rel for _, edits, _ in QEMU_STEPS for rel in edits})


def qemu_repo(src: Path, dest: Path) -> tuple[str, list[str]]:
    """A git repository of a hard-linked copy (``cp -al``) of the QEMU tree
    ``src`` with :data:`QEMU_STEPS` committed.  git writes only ``.git``;
    edited files are replaced, never written through.

    :return: the base SHA and the SHAs of the series
    """
    subprocess.run(["cp", "-al", str(src), str(dest)], check=True)
    git(dest, "init", "-q", "-b", "master")
    git(dest, "add", "-A")
    git(dest, "commit", "-q", "-m", "QEMU")
    base = git(dest, "rev-parse", "HEAD").strip()
    shas = []
    for subject, edits, _ in QEMU_STEPS:
        for rel, file_edits in edits.items():
            path = dest / rel
            qv.replace_file(path, qv.apply_edits(rel, qv.read_text(path), file_edits))
        git(dest, "commit", "-q", "-a", "-m", subject)
        shas.append(git(dest, "rev-parse", "HEAD").strip())
    return base, shas


def snapshot(repo: Path) -> dict[str, str]:
    """What an audit must leave as it was."""
    return {
        "status": git(repo, "status", "--porcelain=v1", "--untracked-files=all"),
        "head": git(repo, "rev-parse", "HEAD"),
        "symbolic": git(repo, "symbolic-ref", "-q", "HEAD") if _on_branch(repo) else "",
        "branches": git(repo, "for-each-ref", "--format=%(refname) %(objectname)"),
        "worktrees": git(repo, "worktree", "list", "--porcelain"),
        "stash": git(repo, "stash", "list"),
        "staged": git(repo, "diff", "--cached"),
        "unstaged": git(repo, "diff"),
    }


def _on_branch(repo: Path) -> bool:
    r = subprocess.run(["git", "-C", str(repo), "symbolic-ref", "-q", "HEAD"], capture_output=True)
    return r.returncode == 0
