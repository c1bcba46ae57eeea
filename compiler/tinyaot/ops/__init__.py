"""The op table: every op family module contributes its OPS dict; no global registration."""

from __future__ import annotations

from types import MappingProxyType
from typing import Mapping

from tinyaot.ops import (
    conv,
    elementwise,
    indexing,
    linear,
    normalization,
    pool,
    qconv,
    qelementwise,
    qfused,
    qlinear,
    qpool,
    qtflite,
    reduce,
    resize,
    shape,
    state,
)
from tinyaot.ops.base import OpDef

_FAMILIES = (conv, elementwise, indexing, linear, normalization, pool, qconv, qelementwise, qfused, qlinear, qpool,
             qtflite, reduce, resize, shape, state)


def _merge() -> Mapping[str, OpDef]:
    table: dict[str, OpDef] = {}
    for module in _FAMILIES:
        for name, opdef in module.OPS.items():
            if name in table:
                raise RuntimeError(f"op {name} defined twice (in {module.__name__})")
            table[name] = opdef
    return MappingProxyType(table)


OPS: Mapping[str, OpDef] = _merge()
