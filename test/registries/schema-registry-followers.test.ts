import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openLog } from "../../log/index.ts";
import type { Log, LogRecord, ProducerRecord } from "../../log/log.ts";
import { SchemaRegistry, type SubjectSchema } from "../../registries/schema-registry.ts";
import { brokers, skipKafka } from "../../testkit/kafka-broker.ts";

/**
 * Several registries over one log (two nodes, a node and its sink thread): each sees what the
 * others registered once it caught up or while it follows, and two that write at the same moment
 * end with one agreed state, which a replay of the topic, compacted or not, gives back.
 * Against the embedded log (two connections to one file) and the real broker (two clients).
 */
const JSON_TYPE = { schemaType: "JSON" };
const schema = (field: string) =>
  JSON.stringify({ type: "object", properties: { [field]: { type: "number" } }, required: [] });

const dir = mkdtempSync(join(tmpdir(), "registry-followers-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const backends: [string, () => Promise<Log>][] = [
  ["embedded", () => openLog({ kind: "embedded", path: join(dir, "log.db") })],
];
if (!skipKafka)
  backends.push([
    "kafka",
    () => openLog({ kind: "kafka", brokers: [...brokers], clientId: "registry-followers" }),
  ]);

let topics = 0;
const freshTopic = () => `_schemas-followers-${process.pid}-${Date.now()}-${topics++}`;

/** the log, with appends held until `release` (the other registry's write goes first) */
function heldAppends(log: Log): { log: Log; release: () => void } {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const held = new Proxy(log, {
    get(target, property, receiver) {
      if (property === "append")
        return async (records: readonly ProducerRecord[]) => {
          await gate;
          return target.append(records);
        };
      const value = Reflect.get(target, property, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { log: held, release };
}

/** every record of the topic, in offset order */
async function recordsOf(log: Log, topic: string): Promise<LogRecord[]> {
  const out: LogRecord[] = [];
  const end = await log.endOffset({ topic, partition: 0 });
  let from = 0;
  while (from < end) {
    const batch = await log.read({ topic, partition: 0 }, { fromOffset: from, maxRecords: 1000 });
    if (batch.length === 0) break;
    out.push(...batch);
    from = batch.at(-1)!.offset + 1;
  }
  return out;
}

/** what a registry holds: every subject's versions with their ids, deleted ones included */
function stateOf(registry: SchemaRegistry): Record<string, [number, number][]> {
  const out: Record<string, [number, number][]> = {};
  for (const subject of registry.subjects(true))
    out[subject] = registry.versions(subject, true).map((v) => [v, registry.version(subject, v, true).id]);
  return out;
}

/** what compaction keeps (the last record of each key), appended in that order to a new topic */
async function compactedCopy(log: Log, from: string): Promise<string> {
  const last = new Map<string, LogRecord>();
  for (const record of await recordsOf(log, from)) if (record.key !== null) last.set(record.key, record);
  const to = freshTopic();
  await log.createTopic({ name: to, partitions: 1, compacted: true });
  const kept = [...last.values()].sort((a, b) => a.offset - b.offset);
  if (kept.length > 0)
    await log.append(kept.map((r) => ({ topic: to, key: r.key, value: r.value, partition: 0 })));
  return to;
}

for (const [backend, open] of backends) {
  /** two handles on the one log, as two nodes have, closed after `work` */
  async function twoHandles(work: (logA: Log, logB: Log) => Promise<void>): Promise<void> {
    const [logA, logB] = [await open(), await open()];
    try {
      await work(logA, logB);
    } finally {
      await Promise.all([logA.close(), logB.close()]);
    }
  }

  /** `b` decides a registration and is held; `a` registers meanwhile; then `b` writes */
  async function writtenSecond(
    logA: Log,
    logB: Log,
    before: (a: SchemaRegistry) => Promise<unknown>,
    first: (a: SchemaRegistry) => Promise<SubjectSchema>,
    second: (b: SchemaRegistry) => Promise<SubjectSchema>,
  ) {
    const topic = freshTopic();
    const a = await SchemaRegistry.open(logA, topic);
    await before(a);
    const held = heldAppends(logB);
    const b = await SchemaRegistry.open(held.log, topic);
    const late = second(b);
    await Bun.sleep(50);
    const early = await first(a);
    held.release();
    const results = { early, late: await late };
    await a.catchUp();
    return { topic, a, b, ...results };
  }

  describe(`schema registries over one log (${backend})`, () => {
    test(
      "a registry opened before another's registration knows it once it caught up",
      () =>
        twoHandles(async (logA, logB) => {
          const topic = freshTopic();
          const a = await SchemaRegistry.open(logA, topic);
          const b = await SchemaRegistry.open(logB, topic);
          const registered = await a.register("speed-value", schema("speed"), JSON_TYPE);
          expect(() => b.schemaById(registered.id)).toThrow(/not found/);
          await b.catchUp();
          expect(b.schemaById(registered.id).schema).toBe(registered.schema);
          expect(b.version("speed-value", "latest")).toEqual(registered);
        }),
      30_000,
    );

    test("a following registry learns another's registrations and deletes without being asked", async () => {
      const [logA, logB] = [await open(), await open()];
      const topic = freshTopic();
      const a = await SchemaRegistry.open(logA, topic);
      const b = await SchemaRegistry.open(logB, topic);
      const errors: unknown[] = [];
      b.follow(50, (error) => errors.push(error));
      try {
        const registered = await a.register("flow-value", schema("flow"), JSON_TYPE);
        const deadline = Date.now() + 10_000;
        while (b.subjects().length === 0 && Date.now() < deadline) await Bun.sleep(20);
        expect(b.version("flow-value", 1).id).toBe(registered.id);
        await a.deleteSubject("flow-value");
        while (b.subjects().length > 0 && Date.now() < deadline) await Bun.sleep(20);
        expect(b.subjects()).toEqual([]);
        expect(b.subjects(true)).toEqual(["flow-value"]);
        expect(errors).toEqual([]);
      } finally {
        await b.close();
        await Promise.all([logA.close(), logB.close()]);
      }
    }, 30_000);

    test(
      "a registration that wrote second, after deciding on the same state, takes the next id and both agree",
      () =>
        twoHandles(async (logA, logB) => {
          // b decides first (id 1, subject speed-value v1) and is held; a writes id 1 for another schema
          const { topic, a, b, early, late } = await writtenSecond(
            logA,
            logB,
            async () => undefined,
            (a) => a.register("flow-value", schema("flow"), JSON_TYPE),
            (b) => b.register("speed-value", schema("speed"), JSON_TYPE),
          );
          expect(early.id).toBe(1);
          expect(late).toMatchObject({ subject: "speed-value", version: 1, id: 2 });
          const fresh = await SchemaRegistry.open(logA, topic);
          expect(stateOf(a)).toEqual(stateOf(b));
          expect(stateOf(fresh)).toEqual(stateOf(b));
          expect(stateOf(b)).toEqual({ "flow-value": [[1, 1]], "speed-value": [[1, 2]] });
          // the refused record is still in the log; a compacted replay folds to the same state
          const compacted = await SchemaRegistry.open(logA, await compactedCopy(logA, topic));
          expect(stateOf(compacted)).toEqual(stateOf(b));
        }),
      30_000,
    );

    test(
      "two schemas registered under one subject at the same moment take versions 1 and 2, and the winner survives compaction",
      () =>
        twoHandles(async (logA, logB) => {
          const { topic, a, early, late } = await writtenSecond(
            logA,
            logB,
            (a) => a.setCompatibility(null, "NONE"),
            (a) => a.register("level-value", schema("height"), JSON_TYPE),
            (b) => b.register("level-value", schema("level"), JSON_TYPE),
          );
          expect([early.version, late.version]).toEqual([1, 2]);
          expect(late.id).not.toBe(early.id);
          expect(a.version("level-value", 1).schema).toBe(early.schema);
          expect(a.version("level-value", 2).schema).toBe(late.schema);
          const compacted = await SchemaRegistry.open(logA, await compactedCopy(logA, topic));
          expect(stateOf(compacted)).toEqual(stateOf(a));
          expect(compacted.version("level-value", 1).schema).toBe(early.schema);
        }),
      30_000,
    );

    test(
      "the same schema registered by two registries at the same moment keeps one id",
      () =>
        twoHandles(async (logA, logB) => {
          const topic = freshTopic();
          const a = await SchemaRegistry.open(logA, topic);
          const b = await SchemaRegistry.open(logB, topic);
          const results = await Promise.all(
            Array.from({ length: 6 }, (_, i) =>
              (i % 2 === 0 ? a : b).register(`subject-${i % 3}-value`, schema(`f${i % 3}`), JSON_TYPE),
            ),
          );
          await Promise.all([a.catchUp(), b.catchUp()]);
          expect(stateOf(a)).toEqual(stateOf(b));
          for (const result of results) expect(a.version(result.subject, result.version).id).toBe(result.id);
          expect(new Set(results.map((r) => r.id)).size).toBe(3);
        }),
      30_000,
    );
  });
}
