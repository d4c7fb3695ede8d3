"""Stage 7 (reporters): ``model --format json|table``, the CPUClass hook model.

Entry points: :func:`render_model_json` and :func:`render_model_table`.  The input
is the model's JSON document (docs/output.md), so both formats show the same data.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TextIO

from rich.table import Table
from rich.text import Text

from qemu_lint.report.console import new_console, print_block, table_box

if TYPE_CHECKING:  # base.py imports the reporters; keep the import graph acyclic
    from qemu_lint.report.base import RenderOptions

CHECK = "✓"


def render_model_json(model_json: Mapping[str, Any], out: TextIO) -> None:
    """Write the model document as indented JSON.

    :param out: the stream to write to
    """
    out.write(json.dumps(model_json, indent=2) + "\n")


def _arch_order(arch: str) -> tuple[bool, str]:
    return (arch != "common", arch)


def _column_groups(archs: list[str], first_width: int, width: int) -> list[list[str]]:
    """Split the arch columns so each table fits ``width``; 20-odd targets don't fit in one."""
    budget = width - first_width - 4  # outer borders and the first column's padding
    groups: list[list[str]] = [[]]
    used = 0
    for arch in archs:
        need = len(arch) + 3  # padding and separator
        if groups[-1] and used + need > budget:
            groups.append([])
            used = 0
        groups[-1].append(arch)
        used += need
    return groups


def _hook_tables(
    impls: Mapping[str, set[str]], hooks: list[str], archs: list[str], opts: RenderOptions
) -> list[Table]:
    """Rows are the implemented ``hooks``, columns the ``archs``, split to fit the width."""
    rows = [h for h in hooks if impls.get(h)]
    if not rows:
        return []
    tables = []
    for group in _column_groups(archs, max(map(len, ["hook", *rows])), opts.width):
        table = Table(box=table_box(opts))
        table.add_column("hook", no_wrap=True)
        for arch in group:
            table.add_column(arch, justify="center", no_wrap=True)
        for hook in rows:
            table.add_row(Text(hook), *(Text(CHECK if a in impls[hook] else "") for a in group))
        tables.append(table)
    return tables


def _arch_table(facts: Mapping[str, Mapping[str, Any]], opts: RenderOptions) -> Table:
    result = Table(box=table_box(opts))
    # yes/no columns stay narrow (their headers wrap) so the paths keep the room
    result.add_column("arch", no_wrap=True)
    result.add_column("emits CPU AML", max_width=11)
    result.add_column("unplug reaches", overflow="fold")
    result.add_column("implements persistence hook", max_width=11)
    for arch in sorted(facts, key=_arch_order):
        f = facts[arch]
        result.add_row(
            Text(arch),
            Text("yes" if f["emits_cpu_aml"] else "no"),
            Text("\n".join(f["unplug_reaches"]) or "-"),
            Text("yes" if f["implements_persistence_hook"] else "no"),
        )
    return result


def render_model_table(model_json: Mapping[str, Any], out: TextIO, opts: RenderOptions) -> None:
    """Write one table per hook table, then the per-architecture ACPI CPU hotplug facts.

    Headings and notes are plain lines, so long paths never wrap inside a table title.

    :param out: the stream to write to
    """
    console = new_console(out, opts)
    implementations = model_json["implementations"]
    for hook_table in model_json["hook_tables"]:
        struct = hook_table["struct"]
        impls: dict[str, set[str]] = {}
        for i in implementations:
            if i["struct"] == struct:
                impls.setdefault(i["hook"], set()).add(i["arch"])
        hooks = [h["name"] for h in hook_table["hooks"]]
        archs = sorted({a for found in impls.values() for a in found}, key=_arch_order)
        file, line = hook_table["file"], hook_table["line"]
        console.print(Text(f"{struct} ({file}:{line})", style="bold"))
        for table in _hook_tables(impls, hooks, archs, opts):
            print_block(console, table, opts)
        unimplemented = sum(1 for h in hooks if not impls.get(h))
        if unimplemented:
            console.print(
                Text(
                    f"{unimplemented} of {len(hooks)} hooks implemented by no architecture "
                    "(not shown)"
                )
            )
        console.print()
    console.print(Text("ACPI CPU hotplug", style="bold"))
    print_block(console, _arch_table(model_json["archs"], opts), opts)
    _build_facts(console, model_json["archs"], opts.width)


def _build_facts(console: Any, facts: Mapping[str, Mapping[str, Any]], width: int) -> None:
    """Per architecture creating an ACPI device or implementing a hook design:
    its boards, the ACPI device types they create, the hw/acpi/ files it
    builds and the designs it implements (plain lines: the lists are long)."""
    shown = [
        a
        for a in sorted(facts, key=_arch_order)
        if facts[a].get("boards") or facts[a].get("hook_designs")
    ]
    if not shown:
        return
    console.print()
    console.print(Text("Build facts", style="bold"))
    for arch in shown:
        f = facts[arch]
        files = f.get("acpi_files")
        built = (
            "no build configuration (folder rule)"
            if files is None
            else f"({len(files)}) " + ", ".join(p.removeprefix("hw/acpi/") for p in files)
        )
        designs = ", ".join(f"{d['hook']} ({d['file']}:{d['line']})" for d in f["hook_designs"])
        console.print(Text(arch, style="bold"))
        for label, value in (
            ("boards", ", ".join(f["boards"]) or "-"),
            ("ACPI devices", ", ".join(f["acpi_devices"]) or "-"),
            ("hw/acpi/ built", built),
            ("hook designs", designs or "none"),
        ):
            for line in textwrap.wrap(
                f"{label}: {value}",
                width=max(width, 40),
                initial_indent="  ",
                subsequent_indent="      ",
                break_long_words=False,
                break_on_hyphens=False,
            ):
                console.print(Text(line))
