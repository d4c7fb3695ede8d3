"""The token index: one scan per round of the file selection, the same
answers with Hyperscan as with the ``bytes.find`` fallback."""

from __future__ import annotations

import re

import pytest

from qemu_lint.discover import matcher
from qemu_lint.discover.tokens import MemoIndex, TokenIndex

FILES = {
    "a.c": b"void cpu_unplug(CPUState *cpu) { cc->unplug(dev); x.unplug (y); }\n",
    "b.h": b"struct AcpiCpuStatus {\n    CPUState *cpu;\n};\n#define X86_CPU(obj) 0\n",
    "c.c": b"int my_cpu = cpu_unplugged; /* cpu_unplug_cb */ cpu_unplug\n",
    "d.c": b"OBJECT_DECLARE_TYPE(X86CPU, X86CPUClass, X86_CPU)\nstatic int hook(int);\n",
    "e.c": b"cpu",
}

WORDS = [b"cpu", b"cpu_unplug", b"unplug", b"AcpiCpuStatus", b"X86_CPU", b"hook", b"nowhere"]


@pytest.mark.parametrize("engine", ["hyperscan", "bytes.find"])
def test_word_hits_are_whole_identifiers(engine: str) -> None:
    if engine == "hyperscan" and matcher.ENGINE != "hyperscan":
        pytest.skip("the hyperscan wheel is not installed here")
    buf = b"\n".join(FILES.values())
    got = matcher.word_hits(buf, WORDS, engine=engine)
    for w in WORDS:
        want = []
        i = buf.find(w)
        while i != -1:
            before = buf[i - 1 : i]
            after = buf[i + len(w) : i + len(w) + 1]
            if not (before.isalnum() or before == b"_") and not (after.isalnum() or after == b"_"):
                want.append(i)
            i = buf.find(w, i + 1)
        assert got[w] == want, w
    # substrings of identifiers are not hits; the last byte of the buffer is a hit
    assert len(got[b"cpu_unplug"]) == 2
    assert got[b"cpu"][-1] == len(buf) - 3


def test_engines_agree_on_every_question() -> None:
    paths, contents = list(FILES), list(FILES.values())
    answers = {}
    for engine in ("bytes.find", matcher.ENGINE):
        ti = TokenIndex(paths, contents)
        ti._found.update(matcher.word_hits(ti.buf, WORDS + [b"X86_CPU_GET_CLASS"], engine=engine))
        answers[engine] = (
            [ti.files_with_word(w.decode()) for w in WORDS],
            ti.files_calling_field("unplug"),
            ti.files_defining("AcpiCpuStatus"),
            ti.files_defining("X86_CPU_GET_CLASS"),
            ti.files_defining_function("hook"),
        )
    assert answers["bytes.find"] == answers[matcher.ENGINE]
    words, calls, struct, cast, fn = answers["bytes.find"]
    assert words[1] == {0, 2} and calls == {0} and struct == {1} and cast == {3} and fn == {3}


def test_a_round_is_one_scan() -> None:
    paths, contents = list(FILES), list(FILES.values())
    reads: list[int] = []

    def read(i: int) -> bytes:
        reads.append(i)
        return contents[i]

    idx = MemoIndex(paths, read, {}, range(len(paths)))
    qs = [
        ("files_with_word", "cpu"),
        ("files_calling_field", "unplug"),
        ("files_defining", "X86_CPU"),
    ]
    idx.prefetch(qs)
    assert [idx.answer(q) for q in qs] == [{0, 1, 4}, {0}, {1, 3}]
    assert idx.scans == 1 and sorted(reads) == list(range(len(paths)))
    # the next run: recorded answers, one changed file searched on its own
    contents[4] = b"nothing here"
    again = MemoIndex(paths, read, idx.answers, [4])
    again.prefetch(qs + [("files_with_word", "hook")])
    assert again.answer(qs[0]) == {0, 1}
    assert again.answer(("files_with_word", "hook")) == {3}
    assert again.scans == 2 and again.full_searches == 1


_PIECES = [
    b"struct ",
    b"union ",
    b"typedef ",
    b"#define ",
    b"# define ",
    b"OBJECT_DECLARE_TYPE(",
    b"Foo",
    b"FOO",
    b"FOO_CLASS",
    b"xFoo",
    b"Foo_",
    b"{",
    b"}",
    b";",
    b",",
    b"(",
    b")",
    b" ",
    b"      ",
    b"\n",
    b"\t",
    b"int x = 1",
    b"/* Foo */",
]


def test_the_definition_pretest_passes_wherever_the_pattern_matches() -> None:
    """``files_defining`` skips the pattern at a hit whose window fails
    ``_may_define``: that must never hide a match.  For every hit of the
    name and of its QOM base in random C-like texts (earlier occurrences in
    the window, whitespace past the window's end, windows reaching into the
    previous file, every alternative of the pattern), the pattern matching
    the window implies the pretest."""
    import random

    from qemu_lint.discover.tokens import _definition, _may_define

    rng = random.Random(12)
    pat = {n: _definition(n, "FOO" if n == "FOO_CLASS" else n) for n in ("Foo", "FOO_CLASS")}
    matched = 0
    for _ in range(3000):
        # two files as the index joins them
        buf = b"\n".join(b"".join(rng.choices(_PIECES, k=rng.randint(1, 40))) for _ in range(2))
        for name, word in (("Foo", b"Foo"), ("FOO_CLASS", b"FOO_CLASS"), ("FOO_CLASS", b"FOO")):
            for m in re.finditer(rb"(?<![A-Za-z0-9_])%s(?![A-Za-z0-9_])" % word, buf):
                i = m.start()  # a hit: the word as a whole identifier
                lo = buf.rfind(b"\n", 0, max(i - 200, 0)) + 1
                window = buf[lo : i + len(word) + 4]
                if pat[name].search(window):
                    matched += 1
                    assert _may_define(window, i - lo, word), (window, word)
    assert matched > 1000  # the texts do hold definitions of every kind


def test_the_definition_pretest_skips_plain_uses() -> None:
    """Uses of a type name (a parameter, a cast, a declaration) are skipped
    without a search, and the answers stay those of the pattern."""
    from qemu_lint.discover.tokens import _may_define

    use = b"static void f(Foo *foo, int n)\n{\n    Foo *x = (Foo *)foo;\n"
    at = use.index(b"Foo")
    assert not _may_define(use, at, b"Foo")
    ti = TokenIndex(["a.c", "b.h"], [use, b"typedef struct Foo {\n    int n;\n} Foo;\n"])
    assert ti.files_defining("Foo") == {1}
