"""The fast row builder agrees with the model: keys, column order, normalisation."""

from __future__ import annotations

import dataclasses

import pytest

from driftwatch.catalog.build import ColumnOrderError, build_all, check_columns, plan
from driftwatch.objects import CLASSES, View


def sample_row(kind: str) -> list[object]:
    """A row with a distinct value per field, of the field's type."""
    row: list[object] = []
    for i, f in enumerate(dataclasses.fields(CLASSES[kind])):
        t = str(f.type)
        if t.startswith("tuple"):
            row.append([f"v{i}a", f"v{i}b"])
        elif t.startswith("bool"):
            row.append(True)
        elif t.startswith("int"):
            row.append(i)
        else:
            row.append(f"v{i}  x ")
    return row


@pytest.mark.parametrize("kind", list(CLASSES))
def test_plan_key_matches_the_model(kind: str) -> None:
    """For every kind, the key computed from the row equals the object's own `key`."""
    (key, obj), = build_all(kind, [sample_row(kind)]).items()
    assert key == obj.key
    assert all(isinstance(getattr(obj, f), tuple) for f in plan(kind).fields
               if str(next(x.type for x in dataclasses.fields(obj) if x.name == f)).startswith("tuple"))


def test_texts_are_normalised_and_names_kept() -> None:
    """Server texts lose formatting; names keep their exact spelling."""
    (obj,) = build_all("view", [["public", "My View", "SELECT  id\n  FROM t;"]]).values()
    assert obj == View("public", "My View", "SELECT id FROM t")


def test_column_order_is_checked() -> None:
    """A query whose columns are not the fields in order is refused, naming both."""
    check_columns("schema", ["name"])
    with pytest.raises(ColumnOrderError, match="expected"):
        check_columns("extension", ["name", "schema", "version"])
