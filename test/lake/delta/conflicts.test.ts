import { describe, expect, test } from "bun:test";
import type { Action } from "../../../lake/delta/actions.ts";
import {
  type ConflictVerdict,
  checkConflict,
  type PendingCommit,
  partitionKey,
} from "../../../lake/delta/conflicts.ts";

const columns = ["date"];
const add = (path: string, date: string, dataChange = true): Action => ({
  add: { path, partitionValues: { date }, size: 1, modificationTime: 0, dataChange },
});
const remove = (path: string): Action => ({ remove: { path, dataChange: true, deletionTimestamp: 0 } });
const txn = (appId: string, version: number): Action => ({ txn: { appId, version } });
const blindAppend: PendingCommit = {
  removes: new Set(),
  readPartitions: "none",
  changesMetadata: false,
  dataChange: true,
};

describe("whether a commit still holds on top of the commit that won its version", () => {
  const cases: {
    name: string;
    pending: PendingCommit;
    winner: Action[];
    verdict: ConflictVerdict["kind"];
  }[] = [
    { name: "an append after an append", pending: blindAppend, winner: [add("a", "d1")], verdict: "none" },
    {
      name: "an append after a winner with the same app's txn at a lower version",
      pending: { ...blindAppend, txn: { appId: "sink", version: 5 } },
      winner: [txn("sink", 4), add("a", "d1")],
      verdict: "none",
    },
    {
      name: "an append whose app's txn the winner already carries",
      pending: { ...blindAppend, txn: { appId: "sink", version: 5 } },
      winner: [txn("sink", 5), add("a", "d1")],
      verdict: "already-committed",
    },
    {
      name: "an append whose app's txn the winner passed",
      pending: { ...blindAppend, txn: { appId: "sink", version: 5 } },
      winner: [txn("sink", 9)],
      verdict: "already-committed",
    },
    {
      name: "a commit with one txn per partition, all of them carried by the winner",
      pending: {
        ...blindAppend,
        txns: [
          { appId: "sink/0", version: 5 },
          { appId: "sink/1", version: 7 },
        ],
      },
      winner: [txn("sink/0", 5), txn("sink/1", 8)],
      verdict: "already-committed",
    },
    {
      name: "a commit with one txn per partition, only some carried by the winner",
      pending: {
        ...blindAppend,
        txns: [
          { appId: "sink/0", version: 5 },
          { appId: "sink/1", version: 7 },
        ],
      },
      winner: [txn("sink/0", 5)],
      verdict: "conflict",
    },
    {
      name: "a commit with one txn per partition after lower versions of them",
      pending: {
        ...blindAppend,
        txns: [
          { appId: "sink/0", version: 5 },
          { appId: "sink/1", version: 7 },
        ],
      },
      winner: [txn("sink/0", 4), txn("sink/1", 6)],
      verdict: "none",
    },
    {
      name: "an append after another app's txn",
      pending: { ...blindAppend, txn: { appId: "sink", version: 5 } },
      winner: [txn("gold", 9)],
      verdict: "none",
    },
    {
      name: "any commit after a protocol change",
      pending: blindAppend,
      winner: [{ protocol: { minReaderVersion: 1, minWriterVersion: 2 } }],
      verdict: "conflict",
    },
    {
      name: "a schema change after a schema change",
      pending: { ...blindAppend, changesMetadata: true },
      winner: [
        { metaData: { id: "x", format: { provider: "parquet" }, schemaString: "{}", partitionColumns: [] } },
      ],
      verdict: "conflict",
    },
    {
      name: "a plain append after a schema change",
      pending: blindAppend,
      winner: [
        { metaData: { id: "x", format: { provider: "parquet" }, schemaString: "{}", partitionColumns: [] } },
      ],
      verdict: "none",
    },
    {
      name: "a rewrite after a winner removed one of its files",
      pending: { ...blindAppend, removes: new Set(["date=d1/f 1.parquet"]), dataChange: false },
      winner: [remove("date=d1/f%201.parquet")],
      verdict: "conflict",
    },
    {
      name: "a rewrite after a winner appended to the same partition",
      pending: { ...blindAppend, removes: new Set(["date=d1/f1.parquet"]), dataChange: false },
      winner: [add("date=d1/new.parquet", "d1")],
      verdict: "none",
    },
    {
      name: "a partition replace after a winner appended to that partition",
      pending: { ...blindAppend, readPartitions: new Set([partitionKey(columns, { date: "d1" })]) },
      winner: [add("date=d1/new.parquet", "d1")],
      verdict: "conflict",
    },
    {
      name: "a partition replace after a winner appended to another partition",
      pending: { ...blindAppend, readPartitions: new Set([partitionKey(columns, { date: "d1" })]) },
      winner: [add("date=d2/new.parquet", "d2")],
      verdict: "none",
    },
    {
      name: "a whole-table overwrite after any data append",
      pending: { ...blindAppend, readPartitions: "all" },
      winner: [add("date=d2/new.parquet", "d2")],
      verdict: "conflict",
    },
    {
      name: "a whole-table overwrite after a compaction (no data change)",
      pending: { ...blindAppend, readPartitions: "all" },
      winner: [add("date=d2/compacted.parquet", "d2", false)],
      verdict: "none",
    },
  ];
  for (const { name, pending, winner, verdict } of cases) {
    test(`${name}: ${verdict}`, () => {
      expect(checkConflict(pending, winner, columns).kind).toBe(verdict);
    });
  }
});
