"""Stage 7 (reporters): ``check --format sarif``, SARIF 2.1.0 for GitHub code scanning.

Entry points: :func:`render` and :func:`to_sarif`.  One run per invocation:

* ``tool.driver`` carries the rules of :attr:`Report.rules <qemu_lint.findings.Report.rules>`
  (summary as ``shortDescription``, the documentation's "What it does" as
  ``fullDescription``, the whole documentation as ``help``);
* each finding is a result with one location, relative to ``%SRCROOT%`` (the
  QEMU root, given in ``originalUriBaseIds``), the evidence path as a code
  flow, the related places as ``relatedLocations`` linked from the message as
  ``[text](id)``, and two ``partialFingerprints``: GitHub's
  ``primaryLocationLineHash`` (computed by the engine, see
  :mod:`qemu_lint.findings.linehash`) and qemu-lint's own line-independent key;
* a finding whose rule proposes an edit ``check --fix`` would make carries
  it as ``fixes`` (one ``artifactChange``, its ``replacements``);
* the run's problems become ``toolExecutionNotifications``;
* suppressed findings are left out (code scanning would show them as open
  alerts) unless ``opts.include_suppressed``, and then carry ``suppressions``.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import re
from pathlib import PurePosixPath
from typing import Any, TextIO
from urllib.parse import quote

from qemu_lint.findings import Finding, Problem, Report, RuleInfo
from qemu_lint.report.base import RenderOptions
from qemu_lint.rule import PathStep

SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
SRCROOT = "%SRCROOT%"
#: ``automationDetails.id``: "<tool>/<category>/", so other analyses can coexist
AUTOMATION_ID = "qemu-lint/{category}/"
#: the ``partialFingerprints`` key of :attr:`Finding.fingerprint <qemu_lint.findings.Finding>`
FINGERPRINT_KEY = "qemu-lint/v1"
#: GitHub's limit for ``shortDescription`` and ``fullDescription``
MAX_DESCRIPTION = 1024
#: GitHub's limit for ``properties.tags``
MAX_TAGS = 20

_LEVEL = {"error": "error", "warning": "warning", "note": "note"}
_PROBLEM_SEVERITY = {"error": "error", "warning": "warning", "note": "recommendation"}
_NOTIFICATION_LEVEL = {"error", "warning", "note", "none"}
_SEMVER = re.compile(r"^\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]*)?$")


def escape_text(s: str) -> str:
    """Escape the square brackets of plain text, so that a SARIF consumer never
    reads them as an embedded link (SARIF 2.1.0 §3.11.6)."""
    return s.replace("[", r"\[").replace("]", r"\]")


def artifact_uri(path: str) -> str:
    """A root-relative POSIX path as a URI reference: percent-encoded, ``/`` kept."""
    return quote(path, safe="/")


def root_uri(root: str) -> str | None:
    """The root folder as a ``file://`` URI ending in ``/``, or None if not absolute."""
    p = PurePosixPath(root)
    if not p.is_absolute():
        return None
    uri = p.as_uri()
    return uri if uri.endswith("/") else uri + "/"


def _cap(text: str, limit: int = MAX_DESCRIPTION) -> str:
    """``text`` cut at a word boundary to at most ``limit`` characters."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip() + "…"


def _what_it_does(doc: str) -> str:
    """The first paragraph of the doc's "What it does" section, on one line
    (the doc's first paragraph when it has no such section)."""
    text = doc.strip()
    m = re.search(r"^## What it does[ \t]*\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    body = m.group(1).strip() if m else text
    first = re.split(r"\n[ \t]*\n", body, maxsplit=1)[0]
    return " ".join(first.split())


def _pascal(rule_id: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^0-9A-Za-z]+", rule_id))


def _rule(r: RuleInfo) -> dict[str, Any]:
    doc = r.doc.strip() or r.summary
    level = _LEVEL.get(r.severity, "warning")
    return {
        "id": r.id,
        "name": _pascal(r.id),
        "shortDescription": {"text": _cap(r.summary)},
        "fullDescription": {"text": _cap(_what_it_does(doc) or r.summary)},
        "help": {"text": doc, "markdown": doc},
        "defaultConfiguration": (
            {"level": level} if r.default_enabled else {"enabled": False, "level": level}
        ),
        "properties": {
            "tags": list(r.tags[:MAX_TAGS]),
            "precision": r.precision,
            "problem.severity": _PROBLEM_SEVERITY.get(r.severity, "warning"),
        },
    }


def _physical(
    file: str, line: int, column: int = 0, end_line: int = 0, end_column: int = 0
) -> dict[str, Any]:
    region: dict[str, int] = {"startLine": max(line, 1)}
    if column > 0:
        region["startColumn"] = column
    if end_line >= line and end_line > 0:
        region["endLine"] = end_line
    if end_column > 0 and (end_line > line or end_column > column):
        region["endColumn"] = end_column  # SARIF's endColumn is exclusive, as ours
    return {
        "artifactLocation": {"uri": artifact_uri(file), "uriBaseId": SRCROOT},
        "region": region,
    }


def _step_location(s: PathStep) -> dict[str, Any]:
    return {"physicalLocation": _physical(s.file, s.line), "message": {"text": s.text}}


def _message(f: Finding) -> str:
    text = escape_text(f.message)
    if f.related:
        links = "; ".join(f"[{escape_text(s.note)}]({i})" for i, s in enumerate(f.related, 1))
        text += f". Related: {links}."
    return text


def _result(f: Finding, rule_index: int) -> dict[str, Any]:
    location: dict[str, Any] = {
        "physicalLocation": _physical(f.file, f.line, f.column, f.end_line, f.end_column)
    }
    if f.function:
        location["logicalLocations"] = [{"name": f.function, "kind": "function"}]
    fingerprints = {FINGERPRINT_KEY: f.fingerprint}
    if f.line_hash:
        fingerprints["primaryLocationLineHash"] = f.line_hash
    result: dict[str, Any] = {
        "ruleId": f.rule,
        "ruleIndex": rule_index,
        "level": _LEVEL.get(f.severity, "warning"),
        "message": {"text": _message(f) or f.rule},
        "locations": [location],
        "partialFingerprints": dict(sorted(fingerprints.items())),
    }
    if f.path:
        flow = [{"location": _step_location(s)} for s in f.path]
        result["codeFlows"] = [{"threadFlows": [{"locations": flow}]}]
    if f.related:
        result["relatedLocations"] = [
            {"id": i, **_step_location(s)} for i, s in enumerate(f.related, 1)
        ]
    if f.suppression is not None:
        result["suppressions"] = [{"kind": "inSource", "justification": f.suppression}]
    # the rule's properties, under the names SARIF consumers know
    props: dict[str, Any] = {"kind": f.kind, "archs": list(f.properties.archs)}
    if f.properties.hook is not None:
        props["hook"] = f.properties.hook
    result["properties"] = props
    return result


def _fixes(report: Report, f: Finding) -> list[dict[str, Any]]:
    """SARIF's ``fixes`` (§3.55) for a finding whose rule proposes an edit
    ``check --fix`` can make: one ``artifactChange`` whose ``replacements``
    are the changed runs of lines (``charOffset``/``charLength`` in the file
    as it is, the new text inserted).  Empty when there is none, or when the
    edit is refused (the file changed, would not parse, …)."""
    if f.fix is None or f.fix.refusal or f.fix.span is None:
        return []
    from qemu_lint.fix import plan_fixes

    plan = plan_fixes(dataclasses.replace(report, findings=(f,)), contents=dict(report.sources))
    if not plan.files:
        return []
    ff = plan.files[0]
    old = ff.old.decode("utf-8").splitlines(keepends=True)
    new = ff.new.decode("utf-8").splitlines(keepends=True)
    starts = [0]
    for line in old:
        starts.append(starts[-1] + len(line))
    replacements = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if op == "equal":
            continue
        replacement: dict[str, Any] = {
            "deletedRegion": {"charOffset": starts[i1], "charLength": starts[i2] - starts[i1]}
        }
        if j2 > j1:
            replacement["insertedContent"] = {"text": "".join(new[j1:j2])}
        replacements.append(replacement)
    guard = f.fix.guard or f"{f.fix.early_return} (early return)"
    return [
        {
            "description": {"text": f"guard the statement with {guard} ({f.fix.hook})"},
            "artifactChanges": [
                {
                    "artifactLocation": {"uri": artifact_uri(ff.path), "uriBaseId": SRCROOT},
                    "replacements": replacements,
                }
            ],
        }
    ]


def _notification(p: Problem) -> dict[str, Any]:
    n: dict[str, Any] = {
        "level": p.level if p.level in _NOTIFICATION_LEVEL else "warning",
        "message": {"text": p.message},
    }
    if p.file:
        n["locations"] = [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": artifact_uri(p.file), "uriBaseId": SRCROOT}
                }
            }
        ]
    return n


def to_sarif(
    report: Report, include_suppressed: bool = False, category: str = "check"
) -> dict[str, Any]:
    """The SARIF log for a report, as plain Python values.

    :param include_suppressed: also list the suppressed findings (with ``suppressions``)
    """
    rules = [_rule(r) for r in report.rules]
    index = {r.id: i for i, r in enumerate(report.rules)}
    findings = list(report.findings)
    if include_suppressed:
        findings += report.suppressed
        findings.sort(key=lambda f: (f.file, f.line, f.column, f.rule, f.fingerprint))
    for f in findings:  # never a ruleIndex without its rule
        if f.rule not in index:
            index[f.rule] = len(rules)
            rules.append(
                {"id": f.rule, "defaultConfiguration": {"level": _LEVEL.get(f.severity, "warning")}}
            )
    driver: dict[str, Any] = {"name": "qemu-lint", "version": report.tool_version}
    if _SEMVER.match(report.tool_version):
        driver["semanticVersion"] = report.tool_version
    driver["rules"] = rules
    run: dict[str, Any] = {
        "tool": {"driver": driver},
        "automationDetails": {"id": AUTOMATION_ID.format(category=category)},
        "invocations": [
            {
                "executionSuccessful": not report.distrust,
                "toolExecutionNotifications": [_notification(p) for p in report.problems],
            }
        ],
    }
    uri = root_uri(report.root)
    if uri is not None:
        run["originalUriBaseIds"] = {SRCROOT: {"uri": uri}}
    run["results"] = [_result(f, index[f.rule]) for f in findings]
    for result, f in zip(run["results"], findings, strict=True):
        if f.suppression is None and (fixes := _fixes(report, f)):
            result["fixes"] = fixes
    return {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}


def render(report: Report, out: TextIO, opts: RenderOptions) -> None:
    """Write the report as one SARIF 2.1.0 log (no colour, no summary).

    :param out: the stream to write to
    """
    doc = to_sarif(report, include_suppressed=opts.include_suppressed, category=opts.category)
    out.write(json.dumps(doc, indent=2) + "\n")
