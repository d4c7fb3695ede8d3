"""Write ``docs/rules/<id>.md`` from the rules' docstrings.

Entry points: :func:`rule_doc` (the text of one page) and :func:`main`
(``python -m tests.gen_rule_docs`` rewrites every page and deletes pages of
rules that no longer exist).  A rule module's docstring is its documentation
(``qemu-lint explain`` prints it, SARIF embeds it); these pages are the same
text for readers of the repository, so never edit them by hand:
``tests/test_meta.py`` fails when one is stale.
"""

from __future__ import annotations

import sys
from pathlib import Path

from qemu_lint.rule import Rule
from qemu_lint.rules import ALL_RULES

DOCS = Path(__file__).resolve().parent.parent / "docs" / "rules"


def rule_doc(rule: Rule) -> str:
    """The page of ``rule``: what ``qemu-lint explain`` prints, under a
    generated-file notice.

    :return: Markdown text ending with a newline
    """
    module = rule.id.replace("-", "_")
    notice = (
        f"<!-- Generated from the docstring of qemu_lint/rules/{module}.py by "
        "`python -m tests.gen_rule_docs`: edit the docstring, not this file. -->\n\n"
    )
    return f"{notice}# {rule.id} ({rule.severity.value})\n\n{rule.summary}\n\n{rule.doc.strip()}\n"


def pages() -> dict[Path, str]:
    """Every page that should exist, by path."""
    return {DOCS / f"{rule.id}.md": rule_doc(rule) for rule in ALL_RULES}


def main() -> int:
    want = pages()
    DOCS.mkdir(parents=True, exist_ok=True)
    for stale in sorted(set(DOCS.glob("*.md")) - set(want)):
        stale.unlink()
        print(f"removed {stale}")
    for path, text in want.items():
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
