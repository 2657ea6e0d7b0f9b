import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BatchedAppends } from "../../log/batched-appends.ts";
import { openEmbeddedLog } from "../../log/embedded/index.ts";
import type { Log } from "../../log/log.ts";
import { ErrorCodes, PlatformError } from "../../messages/errors.ts";

/**
 * Records on their way to the log (the market ingest, the single-owner actors' outputs): in
 * order, durable once flushed, a batch kept for the next flush when its append failed, a record
 * its schema refuses left out and said (never retried for ever), and past `maxQueued` the oldest
 * shed and counted.
 */
const dir = mkdtempSync(join(tmpdir(), "batched-appends-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

async function bench(options: { failAppends?: number; maxBatch?: number; maxQueued?: number } = {}) {
  const log = openEmbeddedLog({ path: join(dir, `log-${n++}.db`), maintenanceIntervalMs: 0 });
  await log.createTopic({ name: "out", partitions: 1 });
  let failing = options.failAppends ?? 0;
  const flaky: Log = Object.create(log, {
    append: {
      value: (records: Parameters<Log["append"]>[0]) => {
        if (failing-- > 0)
          return Promise.reject(new PlatformError(ErrorCodes.INFRA_UNAVAILABLE, "broker down"));
        return log.append(records);
      },
    },
  });
  const errors: unknown[] = [];
  const appended: [string, number][] = [];
  const encodedAs: string[] = [];
  const appends = new BatchedAppends({
    log: flaky,
    encode: (topic, value) => {
      encodedAs.push(topic);
      if (value === "refused") throw new PlatformError(ErrorCodes.SCHEMA_VIOLATION, "refused by its schema");
      return new TextEncoder().encode(JSON.stringify(value));
    },
    onAppended: (topic, count) => appended.push([topic, count]),
    onError: (error) => errors.push(error),
    lingerMs: 60_000,
    ...(options.maxBatch ? { maxBatch: options.maxBatch } : {}),
    ...(options.maxQueued ? { maxQueued: options.maxQueued } : {}),
  });
  const values = async () =>
    (await log.read({ topic: "out", partition: 0 }, { fromOffset: 0, maxRecords: 100 })).map((r) =>
      JSON.parse(new TextDecoder().decode(r.value!)),
    );
  const put = (value: unknown, key = "k") => appends.enqueue({ topic: "out", key, value, timestamp: 1 });
  return { log, appends, errors, appended, encodedAs, values, put };
}

test("what is enqueued is in the log, in order, once flush resolves", async () => {
  const b = await bench();
  for (const v of [1, 2, 3]) b.put(v);
  expect(await b.values()).toEqual([]);
  await b.appends.flush();
  expect(await b.values()).toEqual([1, 2, 3]);
  expect(b.appended).toEqual([["out", 3]]);
  await b.log.close();
});

test("a full batch goes without waiting for the linger", async () => {
  const b = await bench({ maxBatch: 2 });
  b.put(1);
  b.put(2);
  await b.appends.flush(); // waits behind the batch already on its way
  expect(await b.values()).toEqual([1, 2]);
  await b.log.close();
});

test("a failed append fails its flush and keeps its batch, ahead of later records, for the next", async () => {
  const b = await bench({ failAppends: 1 });
  b.put(1);
  await expect(b.appends.flush()).rejects.toThrow(/broker down/);
  b.put(2);
  await b.appends.flush();
  expect(await b.values()).toEqual([1, 2]);
  await b.log.close();
});

test("a record its schema refuses is said and left out; the others go", async () => {
  const b = await bench();
  b.put(1);
  b.put("refused");
  b.put(3);
  await b.appends.flush();
  expect(await b.values()).toEqual([1, 3]);
  expect(b.errors.map((e) => (e as Error).message)).toEqual([expect.stringMatching(/refused by its schema/)]);
  await b.log.close();
});

test("past maxQueued the oldest waiting records are shed and counted; the rest go in order", async () => {
  const b = await bench({ maxQueued: 3 });
  for (const v of [1, 2, 3, 4, 5]) b.put(v);
  expect(b.appends.dropped).toBe(2);
  await b.appends.flush();
  expect(await b.values()).toEqual([3, 4, 5]);
  await b.log.close();
});

test("without maxQueued nothing is shed, however many wait", async () => {
  const b = await bench();
  for (let v = 0; v < 1500; v++) b.put(v);
  await b.appends.flush();
  expect(b.appends.dropped).toBe(0);
  expect(await b.log.endOffset({ topic: "out", partition: 0 })).toBe(1500);
  await b.log.close();
});

test("a record framed by another topic's schema is encoded as that topic and appended to its own", async () => {
  const b = await bench();
  b.appends.enqueue({ topic: "out", schemaTopic: "bars", key: "k", value: 7, timestamp: 1 });
  b.put(8);
  await b.appends.flush();
  expect(b.encodedAs).toEqual(["bars", "out"]);
  expect(await b.values()).toEqual([7, 8]);
  await b.log.close();
});
