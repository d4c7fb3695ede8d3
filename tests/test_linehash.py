"""GitHub's primaryLocationLineHash (qemu_lint.findings.linehash) against GitHub's own values.

The expected hashes are the test vectors of github/codeql-action's
``src/fingerprints.test.ts`` (the tests of the code ``upload-sarif`` runs).
"""

from __future__ import annotations

import pytest

from qemu_lint.findings.linehash import _units, line_hash, line_hashes

ENDS = [
    "e9496ae3ebfced30:1",
    "fb7c023a8b9ccb3f:1",
    "ce8ba1a563dcdaca:1",
    "e20e36e16fcb0cc8:1",
    "b3edc88f2938467e:1",
    "c8e28b0b4002a3a0:1",
    "c129715d7a2bc9a3:1",
]

VECTORS = [
    ("", ["c129715d7a2bc9a3:1"]),
    (
        " a\nb\n  \t\tc\n d",
        ["271789c17abda88f:1", "54703d4cd895b18:1", "180aee12dab6264:1", "a23a3dc5e078b07b:1"],
    ),
    (
        " hello; \t\nworld!!!\n\n\n  \t\tGreetings\n End",
        [
            "8b7cf3e952e7aeb2:1",
            "b1ae1287ec4718d9:1",
            "bff680108adb0fcc:1",
            "c6805c5e1288b612:1",
            "b86d3392aea1be30:1",
            "e6ceba753e1a442:1",
        ],
    ),
    (" hello; \t\nworld!!!\n\n\n  \t\tGreetings\n End\n", ENDS),
    (" hello; \t\nworld!!!\r\r\r  \t\tGreetings\r End\r", ENDS),
    (" hello; \t\r\nworld!!!\r\n\r\n\r\n  \t\tGreetings\r\n End\r\n", ENDS),
    (" hello; \t\nworld!!!\r\n\n\r  \t\tGreetings\r End\r\n", ENDS),
    (
        "Lorem ipsum dolor sit amet.\n" * 10,
        [f"a7f2ff13bc495cf2:{n}" for n in range(1, 7)]
        + [
            "a7f2ff1481e87703:1",
            "a9cf91f7bbf1862b:1",
            "55ec222b86bcae53:1",
            "cc97dc7b1d7d8f7b:1",
            "c129715d7a2bc9a3:1",
        ],
    ),
]


@pytest.mark.parametrize(("text", "expected"), VECTORS, ids=range(len(VECTORS)))
def test_github_test_vectors(text: str, expected: list[str]) -> None:
    assert list(line_hashes(text)) == list(enumerate(expected, 1))


@pytest.mark.parametrize(("text", "expected"), VECTORS, ids=range(len(VECTORS)))
def test_one_line_is_the_same_as_all_lines(text: str, expected: list[str]) -> None:
    # line_hash() stops early: the hash of a line needs only the 100 code units after it
    for n, value in enumerate(expected, 1):
        assert line_hash(text, n) == value
    assert line_hash(text, len(expected) + 1) is None
    assert line_hash(text, 0) is None


def test_long_file_hashes_stop_early_but_agree() -> None:
    text = "".join(f"    x[{i}] = {i * 7 % 13};\n" for i in range(3000))
    every = dict(line_hashes(text))
    for n in (1, 2, 1500, 2999, 3000, 3001):
        assert line_hash(text, n) == every[n]


def test_characters_are_utf16_code_units() -> None:
    # JavaScript's charCodeAt sees an astral character as two surrogates
    assert list(_units("a😀é")) == [0x61, 0xD83D, 0xDE00, 0xE9]
    assert line_hash("😀\n", 1) != line_hash("\U0001f601\n", 1)
    # and the hash is over code units, so a character and its surrogates agree
    assert line_hash("x😀y", 1) == line_hash("x\ud83d\ude00y", 1)
