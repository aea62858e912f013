"""The fast paths stay plain: built objects are real frozen dataclasses, keyed_diff is exact."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from driftwatch.catalog.build import NORMALISED, build_all, normalise
from driftwatch.diff.keyed import keyed_diff
from driftwatch.objects import CLASSES, Column
from tests.test_catalog_build import sample_row


@pytest.mark.parametrize("kind", list(CLASSES))
def test_built_objects_are_the_real_frozen_class(kind: str) -> None:
    """The builder's shortcut leaves an ordinary instance: same type, equality, hash, frozen."""
    row = sample_row(kind)
    (obj,) = build_all(kind, [row]).values()
    cls = CLASSES[kind]
    assert type(obj) is cls
    fields = dataclasses.fields(cls)
    values: list[Any] = [
        tuple(v) if isinstance(v, list)
        else normalise(v) if f.name in NORMALISED and isinstance(v, str) else v
        for f, v in zip(fields, row, strict=True)
    ]  # fmt: skip
    expected = cls(*values)
    assert obj == expected
    assert hash(obj) == hash(expected)
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(obj, fields[0].name, "changed")


def test_null_texts_and_names_stay_none() -> None:
    """NULL from the server is None, never normalised or interned."""
    row = ["public.t", "c", "integer", True, None, None, None, None, 3]
    (obj,) = build_all("column", [row]).values()
    assert obj == Column("public.t", "c", "integer", True, None, position=3)


def test_keyed_diff_missing_extra_changed_sorted() -> None:
    ref = {"b": 1, "a": 1, "c": 2, "d": None}
    tgt = {"c": 3, "a": 1, "z": 0, "y": 0, "d": None}
    d = keyed_diff(ref, tgt)
    assert (d.missing, d.extra, d.changed) == (("b",), ("y", "z"), ("c",))


def test_keyed_diff_extra_when_target_is_not_larger() -> None:
    """Extra keys are found even when as many reference keys are missing."""
    d = keyed_diff({"a": 1, "b": 1}, {"a": 1, "c": 1})
    assert (d.missing, d.extra, d.changed) == (("b",), ("c",), ())
    d = keyed_diff({}, {})
    assert (d.missing, d.extra, d.changed) == ((), (), ())
