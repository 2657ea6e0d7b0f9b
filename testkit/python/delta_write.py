"""Writes a Delta table with delta-rs from a JSON plan on stdin (the reverse conformance test).

Plan: {"path": dir, "schema": [{"name", "type"}], "partitionBy": [...],
       "steps": [{"op": "write", "mode": "append" | "overwrite", "rows": [...]},
                 {"op": "delete", "predicate": "sql predicate"},
                 {"op": "checkpoint"}]}
Types: string, long, integer, double, boolean, date (YYYY-MM-DD), timestamp (epoch ms, UTC).
Prints {"version": n} of the table after the last step.
"""

import datetime
import json
import os
import sys

import pyarrow as pa
from deltalake import DeltaTable, write_deltalake

TYPES = {
    "string": pa.string(),
    "long": pa.int64(),
    "integer": pa.int32(),
    "double": pa.float64(),
    "boolean": pa.bool_(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us", tz="UTC"),
}


def column(field, rows):
    values = [row.get(field["name"]) for row in rows]
    if field["type"] == "timestamp":
        values = [None if v is None else v * 1000 for v in values]
        return pa.array(values, pa.int64()).cast(TYPES["timestamp"])
    if field["type"] == "date":
        values = [None if v is None else datetime.date.fromisoformat(v) for v in values]
    return pa.array(values, TYPES[field["type"]])


def main() -> None:
    plan = json.load(sys.stdin)
    schema = pa.schema([pa.field(f["name"], TYPES[f["type"]]) for f in plan["schema"]])
    for step in plan["steps"]:
        if step["op"] == "write":
            data = pa.table([column(f, step["rows"]) for f in plan["schema"]], schema=schema)
            write_deltalake(plan["path"], data, mode=step.get("mode", "append"),
                            partition_by=plan.get("partitionBy") or None)
        elif step["op"] == "delete":
            DeltaTable(plan["path"]).delete(step["predicate"])
        elif step["op"] == "checkpoint":
            DeltaTable(plan["path"]).create_checkpoint()
        else:
            raise ValueError(f"unknown step {step['op']}")
    json.dump({"version": DeltaTable(plan["path"]).version()}, sys.stdout)


if __name__ == "__main__":
    main()
    # leave without the interpreter's teardown (see delta_read.py: an abort at exit, now and then)
    sys.stdout.flush()
    os._exit(0)
