"""The delta-rs side of bench/delta-append.ts: appends the same micro-batches with write_deltalake.

stdin: {"path", "rows": [...], "batchRows": n, "partitionBy": [...], "schema": [{name, type}]}
Rows arrive as JSON and are turned into pyarrow tables (one per micro-batch) before the clock
starts: delta-rs is measured from a pyarrow table in memory, as the issue asks. The first batch
creates the table untimed (delta-rs' own warm-up); each later batch is one append commit with a
transaction id (app "bench", version = batch), like the platform's sink.
stdout: {"rows": appended rows timed, "seconds": wall time of the appends,
         "cpuSeconds": CPU time of the process (every thread) over the appends}
"""

import json
import resource
import sys
import time

import pyarrow as pa
from deltalake import CommitProperties, Transaction, write_deltalake

TYPES = {
    "string": pa.string(),
    "long": pa.int64(),
    "integer": pa.int32(),
    "double": pa.float64(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us", tz="UTC"),
}


def to_table(schema, rows):
    columns = []
    for field in schema:
        values = [row.get(field["name"]) for row in rows]
        if field["type"] == "timestamp":
            columns.append(pa.array([None if v is None else v * 1000 for v in values], pa.int64()).cast(TYPES["timestamp"]))
        elif field["type"] == "date":
            columns.append(pa.array(values, pa.string()).cast(pa.date32()))
        else:
            columns.append(pa.array(values, TYPES[field["type"]]))
    return pa.table(columns, names=[f["name"] for f in schema])


def main() -> None:
    plan = json.load(sys.stdin)
    size = plan["batchRows"]
    rows = plan["rows"]
    batches = [to_table(plan["schema"], rows[i : i + size]) for i in range(0, len(rows), size)]
    write_deltalake(plan["path"], batches[0], mode="append", partition_by=plan["partitionBy"])
    usage = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    for version, batch in enumerate(batches[1:], start=1):
        write_deltalake(
            plan["path"],
            batch,
            mode="append",
            partition_by=plan["partitionBy"],
            commit_properties=CommitProperties(app_transactions=[Transaction("bench", version)]),
        )
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime + after.ru_stime) - (usage.ru_utime + usage.ru_stime)
    json.dump({"rows": sum(b.num_rows for b in batches[1:]), "seconds": seconds, "cpuSeconds": cpu}, sys.stdout)


if __name__ == "__main__":
    main()
