"""model/lifetime.py: statement order in a function, object identity, vCPU objects."""

from __future__ import annotations

import pytest

from qemu_lint.facts import Expr, FunctionDef, stmt_exprs
from qemu_lint.frontends.treesitter.extract import extract_file
from qemu_lint.frontends.treesitter.parse import parse_bytes
from qemu_lint.model.guards import flow_facts, key_of
from qemu_lint.model.lifetime import destroys, is_vcpu_object, order_facts, origin
from qemu_lint.model.types import build_type_env

SRC = b"""
typedef struct CPUState CPUState;
typedef struct DeviceState DeviceState;
typedef struct AcpiCpuStatus { CPUState *cpu; } AcpiCpuStatus;

void early(DeviceState *dev, int persistent)
{
    if (persistent) {
        return;
    }
    a(dev);
    b(dev);
}

void branches(DeviceState *dev, int x)
{
    if (x) {
        a(dev);
    } else {
        b(dev);
    }
    c(dev);
}

void looped(DeviceState *dev, int n)
{
    int i;

    for (i = 0; i < n; i++) {
        b(dev);
        a(dev);
    }
}

void jumps(DeviceState *dev, int x)
{
    if (x) {
        goto out;
    }
    a(dev);
    return;
out:
    b(dev);
}

void cased(DeviceState *dev, int x)
{
    switch (x) {
    case 1:
        a(dev);
        break;
    case 2:
        b(dev);
    default:
        c(dev);
    }
}

void eject(AcpiCpuStatus *cdev, DeviceState *other)
{
    DeviceState *dev = NULL;
    DeviceState *cast = (DeviceState *)other;

    dev = DEVICE(cdev->cpu);
    object_unparent(OBJECT(dev));
    object_unparent(OBJECT(cast));
    qdev_unrealize(dev);
}
"""


@pytest.fixture(scope="module")
def fns() -> dict[str, FunctionDef]:
    ff = extract_file("x.c", SRC, parse_bytes(SRC))
    assert ff.error_nodes == 0
    return {f.name: f for f in ff.functions}


def _call(fn: FunctionDef, name: str) -> Expr:
    return next(
        e
        for e in stmt_exprs(fn.body)
        if e.kind == "call" and e.args and e.args[0].kind == "name" and e.args[0].text == name
    )


def _follows(fn: FunctionDef, first: str, then: str) -> bool:
    return order_facts(fn).may_follow(key_of(_call(fn, first)), key_of(_call(fn, then)))


@pytest.mark.parametrize(
    ("fn", "first", "then", "expected"),
    [
        ("early", "a", "b", True),
        ("early", "b", "a", False),
        ("branches", "a", "b", False),  # the two arms exclude each other
        ("branches", "a", "c", True),
        ("branches", "c", "a", False),
        ("looped", "a", "b", True),  # the next iteration
        ("jumps", "a", "b", False),  # a returns; b is reached only by the goto
        ("cased", "a", "b", False),  # case 1 breaks out
        ("cased", "b", "c", True),  # case 2 falls through into default
        ("cased", "a", "c", False),
    ],
)
def test_may_follow(
    fns: dict[str, FunctionDef], fn: str, first: str, then: str, expected: bool
) -> None:
    assert _follows(fns[fn], first, then) is expected


def test_destroys_and_origins(fns: dict[str, FunctionDef]) -> None:
    fn = fns["eject"]
    defs = flow_facts(fn).single_defs
    got = destroys(fn)
    # qdev_unrealize() is not a destroy
    assert [d.args[0].text for d in got] == ["object_unparent", "object_unparent"]
    assert origin(got[0].args[1], fn, defs) == ("local", "dev")
    assert origin(got[1].args[1], fn, defs) == ("param", "1")  # through the cast and the local
    env = build_type_env([extract_file("x.c", SRC, parse_bytes(SRC))], frozenset())
    # dev is assigned DEVICE(cdev->cpu) (besides NULL): a vCPU; other is any device
    assert is_vcpu_object(env, got[0].args[1], fn, "x.c", defs)
    assert not is_vcpu_object(env, got[1].args[1], fn, "x.c", defs)
