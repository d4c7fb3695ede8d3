"""Build stage: what each ``qemu-system-<target>`` builds, read from the tree, nothing run.

Pipeline: :mod:`.configs` (``configs/targets``, ``configs/devices``) →
:mod:`.kconfig` (minikconf's semantics, per target) → :mod:`.meson`
(source sets of every ``meson.build`` reached by ``subdir()``) → here, per
target, the source sets the emulator links, applied to that target's
configuration as QEMU's top ``meson.build`` does::

    target_system_arch[base] (target_softmmu_arch before 8.x), hw_arch[hw dir],
    target_arch[base], common_ss (system_ss through add_all), specific_ss,
    and the libraries linked whole (qom, hwcore, authz, crypto, io, block,
    blockdev, qmp, chardev), applied with {} as meson.build does.

``util_ss`` and ``stub_ss`` form ``libqemuutil.a``, whose members are linked
only when referenced: their files are :attr:`BuildConfig.archive_files`, not
built files.

The host is an assumption (:class:`HostConfig`): a Linux host with every
optional host feature found, each accelerator a Linux host can have for the
target (TCG always; KVM and Xen where some host CPU has them), default
devices (minikconf ``--defconfig``) and modules built in.  What only a real
configure run could tell is reported in :attr:`BuildConfig.problems` and the
files it governs are *uncertain*: :meth:`BuildConfig.is_built` answers
``None`` for them and the caller keeps its folder rule.

Entry points: :func:`build_config` (pure, over a reader) and
:func:`load_build_config` (reads a folder).
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .configs import (
    DeviceConfig,
    Location,
    Reader,
    TargetMak,
    Unparsed,
    decode,
    load_device_config,
    parse_target_mak,
)
from .kconfig import (
    Clause,
    KconfigResult,
    KconfigTree,
    chain,
    evaluate_many,
    parse_kconfig,
    plan,
)
from .meson import (
    DEFAULT_PINS,
    Hit,
    MesonResult,
    SourceSet,
    Step,
    apply,
    apply_many,
    interpret,
)

__all__ = [
    "BuildConfig",
    "HostConfig",
    "Location",
    "Target",
    "Unparsed",
    "build_config",
    "load_build_config",
]

#: lists a root-relative folder; ``None`` when it does not exist
Lister = Callable[[str], "Sequence[str] | None"]

_KVM = (
    "i386",
    "x86_64",
    "aarch64",
    "s390x",
    "ppc",
    "ppc64",
    "mips",
    "mipsel",
    "mips64",
    "mips64el",
    "riscv32",
    "riscv64",
    "loongarch64",
)
_HOST_SYMBOLS = (
    "TPM",
    "PIXMAN",
    "SPICE",
    "IVSHMEM",
    "OPENGL",
    "LIBCBOR",
    "GNUTLS",
    "X11",
    "FDT",
    "VHOST_USER",
    "VHOST_VDPA",
    "VHOST_KERNEL",
    "VIRTFS",
    "LINUX",
    "MULTIPROCESS_ALLOWED",
    "HV_BALLOON_POSSIBLE",
)
#: libraries linked whole into every emulator (``extract_all_objects``)
_WHOLE_LIBS = (
    "qom_ss",
    "hwcore_ss",
    "authz_ss",
    "crypto_ss",
    "io_ss",
    "block_ss",
    "blockdev_ss",
    "qmp_ss",
    "chardev_ss",
)
_ARCHIVES = ("util_ss", "stub_ss")


@dataclass(frozen=True, slots=True)
class HostConfig:
    """The assumed host: what QEMU's configure would have found.

    :ivar kconfig: host symbols passed to minikconf as ``CONFIG_X=y`` (meson's
        ``host_kconfig``); only those the tree declares are passed
    :ivar accelerators: ``CONFIG_<ACCEL>`` → target names (``TARGET_ARCH``) it
        is enabled for; ``CONFIG_TCG`` is always on
    :ivar pins: Meson variables fixed before interpretation
    """

    kconfig: tuple[str, ...] = _HOST_SYMBOLS
    accelerators: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: {"CONFIG_KVM": _KVM, "CONFIG_XEN": ("i386", "x86_64", "aarch64")}
    )
    pins: Mapping[str, object] = field(default_factory=lambda: dict(DEFAULT_PINS))


@dataclass(frozen=True, slots=True)
class Target:
    """One ``qemu-system-<name>``.

    :ivar name: the ``configs/targets`` stem, ``x86_64-softmmu``
    :ivar target_arch: ``TARGET_ARCH``, ``x86_64``
    :ivar arch: the ``target/`` folder (``TARGET_BASE_ARCH``), ``i386``
    :ivar keys: the target's configuration as source sets see it
    :ivar symbols: enabled Kconfig symbols (no ``CONFIG_`` prefix)
    :ivar files: root-relative source files built into the binary
    :ivar uncertain: those of ``files`` built only under a construct not understood
    :ivar trail_of: file → index in :attr:`BuildConfig.trails` (the rules that add it)
    :ivar doubts: for each uncertain file, the constructs it rests on
    :ivar reasons: symbol → the Kconfig clause that set it (symbols that are n
        only by minikconf's final ``default n`` are absent)
    """

    name: str
    target_arch: str
    arch: str
    keys: Mapping[str, str]
    symbols: frozenset[str]
    files: frozenset[str]
    uncertain: frozenset[str]
    trail_of: Mapping[str, int] = field(repr=False, compare=False)
    doubts: Mapping[str, tuple[Unparsed, ...]] = field(repr=False, compare=False)
    reasons: Mapping[str, Clause] = field(repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class Mention:
    """A source-set rule naming a file: where, its ``when:``, which branch lists the file."""

    where: Location
    when: tuple[str, ...]
    branch: bool


@dataclass(frozen=True, slots=True)
class BuildConfig:
    """What each system emulator of a tree builds, and why.

    :ivar targets: the ``*-softmmu`` targets, sorted by name
    :ivar known_files: every file some source set names (built or not)
    :ivar archive_files: files of ``libqemuutil.a`` (linked only when referenced)
    :ivar problems: constructs not understood (``file:line``, text, reason)
    :ivar inputs: the tree files read (``.mak``, Kconfig, ``meson.build``)
    :ivar failed_dirs: folders whose ``meson.build`` could not be read as Meson
    """

    targets: tuple[Target, ...]
    known_files: frozenset[str]
    archive_files: frozenset[str]
    problems: tuple[Unparsed, ...]
    inputs: tuple[str, ...]
    failed_dirs: tuple[str, ...] = ()
    mentions: Mapping[str, tuple[Mention, ...]] = field(default_factory=dict, repr=False)
    #: rule chains shared by the targets' ``trail_of`` (kept once: the value is cached)
    trails: tuple[tuple[Step, ...], ...] = field(default=(), repr=False)
    #: the Kconfig symbols the tree declares
    declared: frozenset[str] = field(default=frozenset(), repr=False)

    @property
    def archs(self) -> tuple[str, ...]:
        """The architectures (``target/`` folder names) that have a system emulator."""
        return tuple(sorted({t.arch for t in self.targets}))

    def for_arch(self, arch: str) -> tuple[Target, ...]:
        """The targets of one architecture (``i386`` → i386, x86_64)."""
        return tuple(t for t in self.targets if t.arch == arch)

    def files(self, arch: str) -> frozenset[str]:
        """Union of the files built by the architecture's targets."""
        return frozenset().union(*(t.files for t in self.for_arch(arch)))

    def symbols(self, arch: str) -> frozenset[str]:
        """Union of the Kconfig symbols enabled in the architecture's targets."""
        return frozenset().union(*(t.symbols for t in self.for_arch(arch)))

    def is_built(self, arch: str, file: str) -> bool | None:
        """Whether some target of ``arch`` builds ``file``.

        :return: ``None`` when the answer rests on a construct not understood,
            or the file is an archive member (``libqemuutil.a``: linked only
            where referenced); the caller falls back to its folder rule.
            Otherwise ``True``/``False``.
        """
        targets = self.for_arch(arch)
        if any(file in t.files and file not in t.uncertain for t in targets):
            return True
        if file in self.archive_files or any(file in t.uncertain for t in targets):
            return None
        if file not in self.known_files and any(
            file.startswith(d + "/") or not d for d in self.failed_dirs
        ):
            return None
        return False

    def evidence(self, arch: str, file: str) -> str:
        """Why ``arch`` builds (or does not build) ``file``, in one line.

        ``"loongarch builds hw/acpi/generic_event_device.c: LOONGARCH_VIRT
        selects ACPI_HW_REDUCED (hw/loongarch/Kconfig:22); …"``
        """
        targets = self.for_arch(arch)
        if not targets:
            return f"{arch} has no system emulator target"
        for t in targets:
            index = t.trail_of.get(file)
            if index is not None:
                why = _why(t, self.trails[index], self.declared)
                doubts = t.doubts.get(file)
                doubt = " (uncertain: " + "; ".join(map(str, doubts)) + ")" if doubts else ""
                return f"{arch} builds {file}: {why}{doubt}"
        why_not = _why_not(targets[0], self.mentions.get(file, ()), self.declared)
        return f"{arch} does not build {file}: {why_not}"


def _symbol_reason(t: Target, key: str, declared: frozenset[str]) -> str:
    sym = key[7:] if key.startswith("CONFIG_") else key
    clauses = chain(t.reasons, sym)
    if clauses:
        return "; ".join(c.describe() for c in clauses)
    if sym in declared:
        return f"{sym} is n: nothing selects it or defaults it to y"
    value = t.keys.get(key)
    return f"{key}={value} ({t.name} configuration)" if value else f"{key} is not set"


def _steps_text(t: Target, steps: Sequence[Step]) -> str:
    parts = [
        f"{s.where} when: {', '.join(s.when) or 'always'}{'' if s.branch else ' (if_false)'}"
        for s in reversed(steps)
    ]
    return f"[{t.name}: " + " ← ".join(parts) + "]"


def _why(t: Target, steps: Sequence[Step], declared: frozenset[str]) -> str:
    inner = next((s for s in reversed(steps) if s.when), None)
    if inner is None:
        return "built unconditionally " + _steps_text(t, steps)
    reasons = [_symbol_reason(t, c, declared) for c in inner.when if not c.startswith("<")]
    parts = dict.fromkeys(p for r in reasons for p in r.split("; "))
    return "; ".join(parts) + " " + _steps_text(t, steps)


def _why_not(t: Target, mentions: Sequence[Mention], declared: frozenset[str]) -> str:
    if not mentions:
        return "no source set names it"
    for m in mentions:
        off = [c for c in m.when if bool(t.keys.get(c)) != m.branch]
        if off:
            reasons = "; ".join(_symbol_reason(t, c, declared) for c in off)
            return f"{reasons} [{t.name}: {m.where}]"
    m = mentions[0]
    return f"{m.where} names it, in a source set {t.name} does not link"


def _kconfig_for(
    tree: KconfigTree, mak: TargetMak, dev: DeviceConfig, host: HostConfig
) -> tuple[list[Clause], list[Clause]]:
    """minikconf's run for one target: the device ``.mak`` (before the Kconfig
    tree), then ``host_kconfig`` and ``target_kconfig`` from the command line."""
    before = [Clause("assign", a.symbol, a.value, None, a.where) for a in dev.assignments]
    external = [(s, True, "(host)") for s in host.kconfig]
    external += [(a[7:], True, "(accelerator)") for a in _accels(mak, host)]
    external.append((mak.arch.upper(), True, "(target)"))
    big = mak.keys.get("TARGET_BIG_ENDIAN", "n") == "y"
    external.append(("TARGET_BIG_ENDIAN", big, "(target)"))
    after = [
        Clause("assign", s, v, None, None, origin=o) for s, v, o in external if s in tree.declared
    ]
    return before, after


def _accels(mak: TargetMak, host: HostConfig) -> list[str]:
    out = ["CONFIG_TCG"]
    out += [a for a, archs in host.accelerators.items() if mak.arch in archs]
    return out


def _target_keys(
    mak: TargetMak, kc: KconfigResult, host: HostConfig, variables: Mapping[str, object]
) -> dict[str, str]:
    """``config_target`` as QEMU's meson.build builds it for a softmmu target."""
    keys = {"TARGET_NAME": mak.name.split("-")[0], "CONFIG_SOFTMMU": "y", "CONFIG_SYSTEM_ONLY": "y"}
    keys.update(mak.keys)
    keys.update({a: "y" for a in _accels(mak, host)})
    keys["TARGET_" + mak.arch.upper()] = "y"
    keys.setdefault("TARGET_BASE_ARCH", mak.arch)
    keys.setdefault("TARGET_BIG_ENDIAN", "n")
    dis = variables.get("disassemblers")
    if isinstance(dis, dict):
        for prefix, syms in dis.items():
            if isinstance(prefix, str) and mak.base_arch.startswith(prefix):
                keys.update(
                    {s: "y" for s in syms if isinstance(s, str)} if isinstance(syms, list) else {}
                )
    external = set(host.kconfig) | {a[7:] for a in _accels(mak, host)}
    external |= {mak.arch.upper(), "TARGET_BIG_ENDIAN"}
    keys.update({"CONFIG_" + s: "y" for s in kc.enabled() if s not in external})
    return keys


def _emulator_sets(
    mak: TargetMak, keys: Mapping[str, str], res: MesonResult
) -> list[tuple[SourceSet, Mapping[str, str]] | None]:
    """The source sets one system emulator links, with the configuration each is
    applied to, one slot each in a fixed order (``None``: the tree has none)."""
    base = mak.base_arch
    hw_dir = "sparc64" if keys.get("TARGET_NAME") == "sparc64" else base
    out: list[tuple[SourceSet, Mapping[str, str]] | None] = []
    for table, key in (
        ("target_system_arch", base),
        ("target_softmmu_arch", base),
        ("hw_arch", hw_dir),
        ("target_arch", base),
    ):
        value = res.variables.get(table)
        ss = value.get(key) if isinstance(value, dict) else None
        out.append((ss, keys) if isinstance(ss, SourceSet) else None)
    for name in ("common_ss", "specific_ss"):
        out.append((res.sets[name], keys) if name in res.sets else None)
    out += [(res.sets[n], {}) if n in res.sets else None for n in _WHOLE_LIBS]
    return out


def _all_hits(
    per_target: Sequence[tuple[TargetMak, Mapping[str, str]]], res: MesonResult
) -> list[dict[str, Hit]]:
    """Each target's files, from its source sets applied to its configuration.

    A target keeps a file's first hit, or its first certain one.  The targets
    that apply the same set in the same slot share one :func:`apply_many`
    walk of its rules; each target's hits still come in its own order.
    """
    hits: list[dict[str, Hit]] = [{} for _ in per_target]
    slots = [_emulator_sets(mak, keys, res) for mak, keys in per_target]
    for slot in range(len(slots[0]) if slots else 0):
        groups: dict[int, list[int]] = {}
        chosen: dict[int, tuple[SourceSet, Mapping[str, str]]] = {}
        for i, sets in enumerate(slots):
            one = sets[slot]
            if one is not None:
                groups.setdefault(id(one[0]), []).append(i)
                chosen[i] = one
        for members in groups.values():
            ss = chosen[members[0]][0]
            by_bit = [hits[i] for i in members]
            configs = [chosen[i][1] for i in members]
            for hit, bits in apply_many(ss, configs):
                while bits:
                    low = bits & -bits
                    bits ^= low
                    got = by_bit[low.bit_length() - 1]
                    old = got.get(hit.file)
                    if old is None or (old.uncertain and not hit.uncertain):
                        got[hit.file] = hit
    return hits


def _build_target(
    mak: TargetMak,
    kc: KconfigResult,
    keys: dict[str, str],
    hits: Mapping[str, Hit],
    trails: _Trails,
    doubts: dict[tuple[str, int, str], Unparsed],
) -> Target:
    for hit in hits.values():
        for u in hit.uncertain:
            doubts.setdefault((u.where.file, u.where.line, u.reason), u)
    return Target(
        name=mak.name,
        target_arch=mak.arch,
        arch=mak.base_arch,
        keys=keys,
        symbols=kc.enabled(),
        files=frozenset(hits),
        uncertain=frozenset(f for f, h in hits.items() if h.uncertain),
        trail_of={f: trails.index(h.steps) for f, h in hits.items()},
        doubts={f: h.uncertain for f, h in hits.items() if h.uncertain},
        reasons={k: c for k, c in kc.reasons.items() if c.where is not None or c.value},
    )


@dataclass(slots=True)
class _Trails:
    """The rule chains of all targets, numbered in order of first use.

    Targets share their hits' chains (the same tuples): a chain seen before is
    found by identity, without hashing its steps again.
    """

    numbers: dict[tuple[Step, ...], int] = field(default_factory=dict)
    #: id of a chain tuple → its number; ``keep`` holds the tuples, so no id is reused
    by_id: dict[int, int] = field(default_factory=dict)
    keep: list[tuple[Step, ...]] = field(default_factory=list)

    def index(self, steps: tuple[Step, ...]) -> int:
        got = self.by_id.get(id(steps))
        if got is None:
            got = self.by_id[id(steps)] = self.numbers.setdefault(steps, len(self.numbers))
            self.keep.append(steps)
        return got


def _mentions(res: MesonResult) -> dict[str, tuple[Mention, ...]]:
    out: dict[str, list[Mention]] = {}
    for ss in res.sets.values():
        for rule in ss.rules:
            when = tuple(c if isinstance(c, str) else "<host>" for c in rule.when)
            for branch, items in ((True, rule.if_true), (False, rule.if_false)):
                for item in items:
                    path = getattr(item, "path", None)
                    if isinstance(path, str):
                        out.setdefault(path, []).append(Mention(rule.where, when, branch))
    return {k: tuple(v) for k, v in out.items()}


def _archive(res: MesonResult) -> frozenset[str]:
    return frozenset(h.file for n in _ARCHIVES if n in res.sets for h in apply(res.sets[n], {}))


def build_config(read: Reader, listdir: Lister, host: HostConfig | None = None) -> BuildConfig:
    """Compute what every ``qemu-system-<target>`` of a tree builds.

    :param read: root-relative path → bytes, or ``None`` when absent; only
        ``configs/**.mak``, ``Kconfig*`` and ``meson.build`` files are asked for
    :param listdir: root-relative folder → names; only ``configs/targets`` is listed
    :param host: the assumed host (:class:`HostConfig` defaults)
    :return: the build configuration; never raises on odd input
    """
    host = host or HostConfig()
    names = sorted(n[:-4] for n in (listdir("configs/targets") or ()) if n.endswith(".mak"))
    problems: list[Unparsed] = []
    inputs: list[str] = []
    tree = parse_kconfig(read)
    problems += tree.problems
    configs: list[tuple[str, TargetMak, DeviceConfig]] = []
    for name in (n for n in names if n.endswith("-softmmu")):
        path = f"configs/targets/{name}.mak"
        mak = parse_target_mak(name, path, decode(read(path) or b""))
        configs.append((path, mak, load_device_config(name, read)))
    # one pass over the Kconfig clauses for all the targets
    runs = [_kconfig_for(tree, mak, dev, host) for _, mak, dev in configs]
    per_target: list[tuple[TargetMak, KconfigResult]] = []
    for (path, mak, dev), kc in zip(configs, evaluate_many(tree, runs, plan(tree)), strict=True):
        problems += [*mak.problems, *dev.problems, *kc.problems]
        inputs += [path, *dev.files]
        per_target.append((mak, kc))
    res = interpret(read, _meson_env(names, per_target, host), {**DEFAULT_PINS, **host.pins})
    problems += res.problems
    doubts: dict[tuple[str, int, str], Unparsed] = {}
    trails = _Trails()
    keys = [_target_keys(m, k, host, res.variables) for m, k in per_target]
    hits = _all_hits([(m, ks) for (m, _), ks in zip(per_target, keys, strict=True)], res)
    targets = tuple(
        _build_target(m, k, ks, h, trails, doubts)
        for (m, k), ks, h in zip(per_target, keys, hits, strict=True)
    )
    mentions = _mentions(res)
    failed = tuple(
        sorted({posixpath.dirname(p.where.file) for p in res.problems if "syntax" in p.reason})
    )
    return BuildConfig(
        targets=targets,
        known_files=frozenset(mentions),
        archive_files=_archive(res),
        problems=tuple(_dedupe([*problems, *doubts.values()])),
        inputs=tuple(dict.fromkeys([*inputs, *tree.files, *res.files])),
        failed_dirs=failed,
        mentions=mentions,
        trails=tuple(trails.numbers),
        declared=tree.declared,
    )


def _meson_env(
    names: Sequence[str], per_target: Iterable[tuple[TargetMak, KconfigResult]], host: HostConfig
) -> dict[str, object]:
    devices: dict[str, str] = {}
    accel: dict[str, str] = {}
    for mak, kc in per_target:
        devices.update({"CONFIG_" + s: "y" for s in kc.enabled()})
        accel.update({a: "y" for a in _accels(mak, host)})
    return {
        "config_all_devices": devices,
        "config_all_accel": accel,
        "config_all": {**devices, **accel, "CONFIG_SOFTMMU": "y", "CONFIG_ALL": "y"},
        "target_dirs": list(names),
    }


def _dedupe(problems: Iterable[Unparsed]) -> list[Unparsed]:
    seen: dict[tuple[str, int, str, str], Unparsed] = {}
    for p in problems:
        seen.setdefault((p.where.file, p.where.line, p.reason, p.text), p)
    return list(seen.values())


def load_build_config(
    root: Path, host: HostConfig | None = None, overrides: Mapping[str, bytes | None] | None = None
) -> BuildConfig:
    """:func:`build_config` over a folder (the thin loader; the only I/O here).

    :param overrides: root-relative path → its bytes instead of the folder's
        (None: absent), for a tree at a git revision (``--diff-base``, audit)
    """
    changed = overrides or {}
    top = os.fspath(root)

    def read(rel: str) -> bytes | None:
        if rel in changed:
            return changed[rel]
        try:  # plain os.path: a Path per file cost more than reading it
            with open(os.path.join(top, rel), "rb") as f:
                return f.read()
        except OSError:
            return None

    def listdir(rel: str) -> list[str] | None:
        try:
            names = {p.name for p in (root / rel).iterdir()}
        except OSError:
            names = set()
        for path, data in changed.items():
            folder, _, name = path.rpartition("/")
            if folder == rel:
                (names.add if data is not None else names.discard)(name)
        return sorted(names) if names or (root / rel).is_dir() else None

    return build_config(read, listdir, host)
