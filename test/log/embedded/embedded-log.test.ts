import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openEmbeddedLog } from "../../../log/embedded/index.ts";
import { ErrorCodes, isPlatformError } from "../../../messages/errors.ts";
import { logContract } from "../log.contract.ts";

logContract("embedded (bun:sqlite)", async () => {
  const dir = mkdtempSync(join(tmpdir(), "embedded-log-"));
  const log = openEmbeddedLog({
    path: join(dir, "log.db"),
    heartbeatIntervalMs: 100,
    sessionTimeoutMs: 3000,
  });
  return {
    log,
    async cleanup() {
      await log.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

// the node's settings: checkpoints on their own thread, commits at most every 2 ms
logContract("embedded with a checkpoint thread and a commit interval", async () => {
  const dir = mkdtempSync(join(tmpdir(), "embedded-log-"));
  const log = openEmbeddedLog({
    path: join(dir, "log.db"),
    heartbeatIntervalMs: 100,
    sessionTimeoutMs: 3000,
    checkpoints: "background",
    commitIntervalMs: 2,
  });
  return {
    log,
    async cleanup() {
      await log.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("embedded log commit interval", () => {
  const value = new Uint8Array([7]);
  const cases = [
    { intervalMs: 0, waitsPastATurn: false },
    // long enough that no stall of a loaded machine between the two appends uses it up
    { intervalMs: 500, waitsPastATurn: true },
  ];

  test.each(cases)(
    "with commitIntervalMs=$intervalMs an append right after a commit waits past the next turn: $waitsPastATurn",
    async ({ intervalMs, waitsPastATurn }) => {
      const dir = mkdtempSync(join(tmpdir(), "embedded-log-"));
      const log = openEmbeddedLog({ path: join(dir, "log.db"), commitIntervalMs: intervalMs });
      try {
        await log.createTopic({ name: "t", partitions: 1 });
        // the first append after a quiet spell commits on the next turn, interval or not
        await log.append([{ topic: "t", key: "first", value }]);
        const committedAt = performance.now();
        let resolvedAt: number | undefined;
        const second = log.append([{ topic: "t", key: "second", value }]).then((positions) => {
          resolvedAt = performance.now();
          return positions;
        });
        await nextTurn();
        expect(resolvedAt === undefined).toBe(waitsPastATurn);
        // an append in a later turn joins the same pending commit
        const third = log.append([{ topic: "t", key: "third", value }]);
        expect((await second).map((p) => p.offset)).toEqual([1]);
        expect((await third).map((p) => p.offset)).toEqual([2]);
        // it waited for the interval (counted from the commit, a little before \`committedAt\`)
        if (waitsPastATurn) expect(resolvedAt! - committedAt).toBeGreaterThanOrEqual(intervalMs / 2);
      } finally {
        await log.close();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  test("an append waiting for the interval is written by close, not lost", async () => {
    const dir = mkdtempSync(join(tmpdir(), "embedded-log-"));
    const path = join(dir, "log.db");
    const log = openEmbeddedLog({ path, commitIntervalMs: 60_000 });
    try {
      await log.createTopic({ name: "t", partitions: 1 });
      await log.append([{ topic: "t", key: "a", value }]);
      const waiting = log.append([{ topic: "t", key: "b", value }]);
      await log.close();
      expect((await waiting).map((p) => p.offset)).toEqual([1]);
      const reopened = openEmbeddedLog({ path });
      expect((await reopened.read({ topic: "t", partition: 0 })).map((r) => r.key)).toEqual(["a", "b"]);
      await reopened.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("embedded log group commit", () => {
  const value = new Uint8Array([7]);

  const bounded = [
    // appends of one turn (record counts), the bound, the transactions they take
    { appends: [3, 3, 3], bound: { records: 10 }, transactions: 1 },
    { appends: [6, 6, 6], bound: { records: 10 }, transactions: 3 },
    { appends: [5, 5, 5, 5], bound: { records: 10 }, transactions: 2 },
    // larger than the bound: never split, a transaction of its own
    { appends: [2, 25, 2], bound: { records: 10 }, transactions: 3 },
    // 100-byte values and 1-character keys: 101 bytes a record
    { appends: [2, 2, 2], bound: { bytes: 450 }, transactions: 2 },
    { appends: [2, 2, 2], bound: { bytes: 1000 }, transactions: 1 },
  ];

  test.each(bounded)(
    "appends of $appends records in one turn with maxTransaction $bound take $transactions transactions, in call order",
    async ({ appends, bound, transactions }) => {
      const dir = mkdtempSync(join(tmpdir(), "embedded-log-"));
      const log = openEmbeddedLog({ path: join(dir, "log.db"), maxTransaction: bound });
      try {
        await log.createTopic({ name: "t", partitions: 1 });
        const before = log.commitStats();
        const big = new Uint8Array(100);
        let key = 0;
        const pending = appends.map((count) =>
          log.append(
            Array.from({ length: count }, () => ({ topic: "t", key: String(key++ % 10), value: big })),
          ),
        );
        const offsets = (await Promise.all(pending)).map((positions) => positions.map((p) => p.offset));
        let next = 0;
        const expected = appends.map((count) => Array.from({ length: count }, () => next++));
        expect(offsets).toEqual(expected);
        const after = log.commitStats();
        expect(after.transactions - before.transactions).toBe(transactions);
        expect(after.records - before.records).toBe(next);
      } finally {
        await log.close();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  // regression: the default bound was 1,000 records, so a node's raw readings and their silver
  // rows (two records a reading) went through the log at ~500 readings a turn of the event loop,
  // about a node's rate at 20k readings/s on a busy machine, and a backlog never drained
  test.each([
    { appends: [500, 500, 500, 500], transactions: 1 },
    { appends: [2000, 2000, 2000], transactions: 2 },
  ])(
    "by default, appends of $appends small records in one turn take $transactions transactions",
    async ({ appends, transactions }) => {
      const dir = mkdtempSync(join(tmpdir(), "embedded-log-"));
      const log = openEmbeddedLog({ path: join(dir, "log.db") });
      try {
        await log.createTopic({ name: "t", partitions: 1 });
        const before = log.commitStats();
        const reading = new Uint8Array(100);
        await Promise.all(
          appends.map((count) =>
            log.append(
              Array.from({ length: count }, (_, i) => ({ topic: "t", key: String(i % 10), value: reading })),
            ),
          ),
        );
        expect(log.commitStats().transactions - before.transactions).toBe(transactions);
      } finally {
        await log.close();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  // regression: a node's checkpoint (6,000 actor states, ~4 MB) went in one transaction and held
  // the main thread for 20-130 ms; the event loop now runs between its bounded transactions
  test("the event loop runs between the transactions of appends larger than one transaction's bound", async () => {
    const dir = mkdtempSync(join(tmpdir(), "embedded-log-"));
    const log = openEmbeddedLog({ path: join(dir, "log.db"), maxTransaction: { records: 10 } });
    try {
      await log.createTopic({ name: "t", partitions: 1 });
      const settled: string[] = [];
      const first = log
        .append(Array.from({ length: 8 }, () => ({ topic: "t", key: "a", value })))
        .then(() => settled.push("first"));
      const second = log
        .append(Array.from({ length: 8 }, () => ({ topic: "t", key: "b", value })))
        .then(() => settled.push("second"));
      // scheduled after the first commit's turn was: it runs after the first transaction and
      // before the second, which the first scheduled for the next turn
      const between = new Promise<void>((resolve) => setImmediate(() => resolve(void settled.push("turn"))));
      await Promise.all([first, second, between]);
      expect(settled).toEqual(["first", "turn", "second"]);
    } finally {
      await log.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("close writes every accepted append, however many transactions they take", async () => {
    const dir = mkdtempSync(join(tmpdir(), "embedded-log-"));
    const path = join(dir, "log.db");
    const log = openEmbeddedLog({ path, maxTransaction: { records: 2 } });
    try {
      await log.createTopic({ name: "t", partitions: 1 });
      const accepted = ["a", "b", "c", "d", "e"].map((key) => log.append([{ topic: "t", key, value }]));
      await log.close();
      expect((await Promise.all(accepted)).map((positions) => positions[0]!.offset)).toEqual([0, 1, 2, 3, 4]);
      expect(log.commitStats().transactions).toBe(3);
      const reopened = openEmbeddedLog({ path });
      expect((await reopened.read({ topic: "t", partition: 0 })).map((r) => r.key)).toEqual([
        "a",
        "b",
        "c",
        "d",
        "e",
      ]);
      await reopened.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("appends of one turn share a transaction: each resolves with its own positions, in call order", async () => {
    const dir = mkdtempSync(join(tmpdir(), "embedded-log-"));
    const log = openEmbeddedLog({ path: join(dir, "log.db") });
    try {
      await log.createTopic({ name: "t", partitions: 1 });
      const first = log.append([{ topic: "t", key: "a", value, partition: 0 }]);
      const second = log.append([
        { topic: "t", key: "b", value, partition: 0 },
        { topic: "t", key: "c", value, partition: 0 },
      ]);
      expect((await first).map((p) => p.offset)).toEqual([0]);
      expect((await second).map((p) => p.offset)).toEqual([1, 2]);
      expect((await log.read({ topic: "t", partition: 0 })).map((r) => r.key)).toEqual(["a", "b", "c"]);
    } finally {
      await log.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("an append accepted before close is written, and one after close is refused with LOG_CLOSED", async () => {
    const dir = mkdtempSync(join(tmpdir(), "embedded-log-"));
    const path = join(dir, "log.db");
    const log = openEmbeddedLog({ path });
    try {
      await log.createTopic({ name: "t", partitions: 1 });
      const accepted = log.append([{ topic: "t", key: "a", value, partition: 0 }]);
      await log.close();
      expect((await accepted).map((p) => p.offset)).toEqual([0]);
      const refused = await log.append([{ topic: "t", key: "b", value }]).catch((error: unknown) => error);
      expect(isPlatformError(refused, ErrorCodes.LOG_CLOSED)).toBe(true);
      const reopened = openEmbeddedLog({ path });
      expect((await reopened.read({ topic: "t", partition: 0 })).map((r) => r.key)).toEqual(["a"]);
      await reopened.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a producer that reuses its buffer after the append does not change what consumers read", async () => {
    const dir = mkdtempSync(join(tmpdir(), "embedded-log-"));
    const log = openEmbeddedLog({ path: join(dir, "log.db") });
    try {
      await log.createTopic({ name: "t", partitions: 1 });
      const buffer = new Uint8Array([1, 2, 3]);
      await log.append([{ topic: "t", key: "a", value: buffer, partition: 0 }]);
      buffer.fill(9);
      const consumer = log.consumer({ groupId: "g", topics: ["t"] });
      expect([...((await consumer.poll({ timeoutMs: 1000 }))[0]?.value ?? [])]).toEqual([1, 2, 3]);
      expect([...((await log.read({ topic: "t", partition: 0 }))[0]?.value ?? [])]).toEqual([1, 2, 3]);
    } finally {
      await log.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("headers read from the tail in memory equal those read from SQLite, whatever the producer does to its own afterwards", async () => {
    const dir = mkdtempSync(join(tmpdir(), "embedded-log-"));
    const path = join(dir, "log.db");
    const log = openEmbeddedLog({ path });
    try {
      await log.createTopic({ name: "t", partitions: 1 });
      const header = { key: "ingested_at", value: "17" };
      const headers = [header, { key: "trace", value: 'é\u0000"x' }];
      await log.append([
        { topic: "t", key: "a", value: null, partition: 0, headers },
        { topic: "t", key: "b", value: null, partition: 0 },
      ]);
      header.value = "changed";
      headers.push({ key: "late", value: "1" });
      const expected = [
        [
          { key: "ingested_at", value: "17" },
          { key: "trace", value: 'é\u0000"x' },
        ],
        [],
      ];
      const fromTail = await log.read({ topic: "t", partition: 0 });
      const other = openEmbeddedLog({ path });
      try {
        const fromSqlite = await other.read({ topic: "t", partition: 0 });
        expect(fromTail.map((r) => r.headers)).toEqual(expected);
        expect(fromSqlite.map((r) => r.headers)).toEqual(expected);
      } finally {
        await other.close();
      }
    } finally {
      await log.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
