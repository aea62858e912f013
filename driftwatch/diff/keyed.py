"""The primitive every comparison rests on: missing, extra and changed keys of two keyed maps."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class KeyedDiff(Generic[V]):
    """Keys only in the reference, only in the target, and in both with unequal values."""

    missing: tuple[str, ...]
    extra: tuple[str, ...]
    changed: tuple[str, ...]


def keyed_diff(reference: Mapping[str, V], target: Mapping[str, V]) -> KeyedDiff[V]:
    """Compare two maps by key; results are sorted so output is deterministic."""
    return KeyedDiff(
        missing=tuple(sorted(reference.keys() - target.keys())),
        extra=tuple(sorted(target.keys() - reference.keys())),
        changed=tuple(sorted(k for k in reference.keys() & target.keys()
                             if reference[k] != target[k])),
    )
