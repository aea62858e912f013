"""Generate the benchmark schema: N tables with columns, constraints, indexes, views and triggers.

Every table gets 12 columns of mixed types, 4 constraints (primary key, unique, foreign key to
a previous table, CHECK) and 2 plain indexes. Every 50th table gets a view (joined to the
table's FK parent), every 20th a trigger calling one shared plpgsql function. Tables are spread
round-robin over four schemas.

The `drift` variant is the same schema with 1% of the tables changed deterministically: table
i with i % 100 == 99 gets one change, cycling through seven kinds (column type, dropped index,
added column, changed check, changed view, dropped trigger, missing table). Those tables always
carry a view and a trigger, and no foreign key points at them, so every kind applies cleanly.

    python benchmarks/build_schema.py --tables 2000 [--drift] > schema.sql
    psql -v ON_ERROR_STOP=1 -1 -f schema.sql DSN
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Iterator

SCHEMAS = ("sales", "billing", "inventory", "audit")
DRIFT_KINDS = (
    "column_type", "dropped_index", "added_column", "changed_check",
    "changed_view", "dropped_trigger", "missing_table",
)  # fmt: skip
VIEW_EVERY, TRIGGER_EVERY, DRIFT_EVERY = 50, 20, 100

PRELUDE = """\
{schemas}CREATE FUNCTION sales.touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END
$$;
"""


def name(i: int) -> str:
    """Schema-qualified name of table i."""
    return f"{SCHEMAS[i % len(SCHEMAS)]}.t{i:05d}"


def has_view(i: int) -> bool:
    return i % VIEW_EVERY == VIEW_EVERY - 1


def has_trigger(i: int) -> bool:
    return i % TRIGGER_EVERY == TRIGGER_EVERY - 1


def drift_kind(i: int) -> str | None:
    """The change table i carries in the drift variant, or None."""
    if i % DRIFT_EVERY != DRIFT_EVERY - 1:
        return None
    return DRIFT_KINDS[(i // DRIFT_EVERY) % len(DRIFT_KINDS)]


def parent(i: int) -> int:
    """The table that table i's foreign key points at: the previous one that never drifts."""
    if i == 0:
        return 0  # the first table refers to itself
    p = i - 1
    return p - 1 if drift_kind(p) is not None else p


def table_sql(i: int, drift: bool) -> Iterator[str]:
    """The statements creating table i (and its indexes, view and trigger)."""
    kind = drift_kind(i) if drift else None
    if kind == "missing_table":
        return
    t, short = name(i), f"t{i:05d}"
    price = "numeric(14,2)" if kind == "column_type" else "numeric(12,2)"
    check = "qty >= 0 AND qty < 1000000" if kind == "changed_check" else "qty >= 0"
    extra = ",\n  extra text" if kind == "added_column" else ""
    yield f"""CREATE TABLE {t} (
  id bigint NOT NULL,
  parent_id bigint,
  code varchar(40) NOT NULL,
  name text NOT NULL,
  qty integer NOT NULL DEFAULT 0,
  price {price},
  active boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz,
  payload jsonb,
  ref uuid,
  ratio double precision{extra},
  CONSTRAINT {short}_pkey PRIMARY KEY (id),
  CONSTRAINT {short}_code_key UNIQUE (code),
  CONSTRAINT {short}_parent_fkey FOREIGN KEY (parent_id) REFERENCES {name(parent(i))} (id),
  CONSTRAINT {short}_qty_check CHECK ({check})
);
CREATE INDEX {short}_parent_idx ON {t} (parent_id);
"""
    if kind != "dropped_index":
        yield f"CREATE INDEX {short}_created_idx ON {t} (created_at, active);\n"
    if has_view(i):
        where = "c.active AND c.qty > 0" if kind == "changed_view" else "c.active"
        yield (f"CREATE VIEW {SCHEMAS[i % len(SCHEMAS)]}.v_{short} AS\n"
               f"  SELECT c.id, c.code, c.name, c.qty, p.code AS parent_code\n"
               f"  FROM {t} c LEFT JOIN {name(parent(i))} p ON p.id = c.parent_id\n"
               f"  WHERE {where};\n")  # fmt: skip
    if has_trigger(i) and kind != "dropped_trigger":
        yield (f"CREATE TRIGGER {short}_touch BEFORE UPDATE ON {t}\n"
               f"  FOR EACH ROW EXECUTE FUNCTION sales.touch_updated_at();\n")  # fmt: skip


def chunks(tables: int, drift: bool, per_chunk: int = 500) -> Iterator[str]:
    """The whole schema as SQL text, in chunks of `per_chunk` tables (the prelude first)."""
    yield PRELUDE.format(schemas="".join(f"CREATE SCHEMA {s};\n" for s in SCHEMAS))
    for start in range(0, tables, per_chunk):
        stop = min(start + per_chunk, tables)
        yield "".join(stmt for i in range(start, stop) for stmt in table_sql(i, drift))


def drift_summary(tables: int) -> dict[str, int]:
    """How many tables carry each kind of drift in the drift variant."""
    return dict(Counter(k for i in range(tables) if (k := drift_kind(i)) is not None))


def object_counts(tables: int) -> dict[str, int]:
    """The objects of the reference variant, by kind."""
    return {
        "tables": tables,
        "columns": 12 * tables,
        "constraints": 4 * tables,
        "indexes": 2 * tables,
        "views": sum(has_view(i) for i in range(tables)),
        "triggers": sum(has_trigger(i) for i in range(tables)),
        "functions": 1,
    }


def main() -> None:
    p = argparse.ArgumentParser(description="Print the benchmark schema as SQL.")
    p.add_argument("--tables", type=int, default=2000, help="number of tables (default 2000)")
    p.add_argument("--drift", action="store_true", help="print the drifted variant")
    args = p.parse_args()
    for chunk in chunks(args.tables, args.drift):
        sys.stdout.write(chunk)
    print(f"-- drift: {drift_summary(args.tables) if args.drift else 'none'}", file=sys.stderr)


if __name__ == "__main__":
    main()
