"""Stage 2 (front-ends), libclang: loading the library and what parses depend on.

Entry points: :func:`load_cindex` (import and load libclang once per process,
or a clear error), :func:`builtin_include_dir` (the system compiler's builtin
headers), :data:`STUBS` and :func:`stubs_digest` (the stand-in headers; part
of the cache salt).
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import os
import shutil
import subprocess
from typing import Any

from qemu_lint.errors import UsageError


@functools.cache
def load_cindex() -> Any:
    """Import ``clang.cindex`` and load the shared library once per process.

    :raise UsageError: when the ``libclang`` package is missing or its library
        cannot be loaded (``--frontend clang`` cannot run)
    """
    try:
        import clang.cindex as ci  # type: ignore[import-untyped]  # the bindings ship no stubs
    except ImportError as e:
        # qemu-lint is not on PyPI but libclang is: name the wheel the [clang] extra pulls
        raise UsageError(
            "--frontend clang needs libclang (the [clang] extra): pip install 'libclang>=16'"
        ) from e
    try:
        ci.Index.create()
    except Exception as e:  # LibclangError, OSError: the shared library did not load
        raise UsageError(f"--frontend clang: libclang cannot be loaded: {e}") from e
    _register(ci)
    return ci


def _register(ci: Any) -> None:
    """Declare the few C entry points the Python bindings do not wrap."""
    lib = ci.conf.lib
    u = ctypes.c_uint
    lib.clang_getFileLocation.argtypes = [
        ci.SourceLocation,
        ctypes.POINTER(ctypes.c_void_p),
        ctypes.POINTER(u),
        ctypes.POINTER(u),
        ctypes.POINTER(u),
    ]
    lib.clang_getFileLocation.restype = None
    for name in ("clang_getCursorBinaryOperatorKind", "clang_getCursorUnaryOperatorKind"):
        fn = getattr(lib, name, None)
        if fn is not None:
            fn.argtypes = [ci.Cursor]
            fn.restype = ctypes.c_int
    for name in ("clang_getBinaryOperatorKindSpelling", "clang_getUnaryOperatorKindSpelling"):
        fn = getattr(lib, name, None)
        if fn is not None:
            fn.argtypes = [ctypes.c_int]
            fn.restype = ci._CXString
    lib.clang_getExpansionLocation.argtypes = lib.clang_getFileLocation.argtypes
    lib.clang_getExpansionLocation.restype = None
    lib.clang_getFileName.argtypes = [ctypes.c_void_p]
    lib.clang_getCursorPrettyPrinted.argtypes = [ci.Cursor, ctypes.c_void_p]
    lib.clang_getCursorPrettyPrinted.restype = ci._CXString
    lib.clang_getCursorPrettyPrinted.errcheck = ci._CXString.from_result
    lib.clang_Cursor_isAnonymousRecordDecl.argtypes = [ci.Cursor]
    lib.clang_Cursor_isAnonymousRecordDecl.restype = ctypes.c_uint
    lib.clang_isInvalidDeclaration.argtypes = [ci.Cursor]
    lib.clang_isInvalidDeclaration.restype = ctypes.c_uint


@functools.cache
def builtin_include_dir() -> str | None:
    """The system compiler's builtin header folder (``stddef.h``, ``stdarg.h``…).

    The libclang wheel ships none.  Asked of ``gcc``, then ``cc``, then
    ``clang`` (``-print-file-name=include``), once per process.
    """
    for cc in ("gcc", "cc", "clang"):
        exe = shutil.which(cc)
        if exe is None:
            continue
        try:
            out = subprocess.run(
                [exe, "-print-file-name=include"], capture_output=True, text=True, timeout=20
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            continue
        if out and os.path.isfile(os.path.join(out, "stddef.h")):
            return out
    return None


#: stand-ins searched last (``-idirafter``): a ``glib.h`` declaring the glib
#: types and attribute macros QEMU's headers use, for trees without a build
#: (a real glib on the include path, as a compile command gives, wins), and
#: minimal compiler headers (``stddef.h``, ``stdarg.h``, ``stdbool.h``,
#: ``limits.h``…) for machines without a system compiler
STUBS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "stubs")


def stubs_digest() -> str:
    """A digest of the stand-in headers (facts depend on them: cache salt)."""
    h = hashlib.blake2b(digest_size=8)
    for name in sorted(os.listdir(STUBS)):
        with open(os.path.join(STUBS, name), "rb") as fh:
            h.update(name.encode() + b"\0" + fh.read())
    return h.hexdigest()
