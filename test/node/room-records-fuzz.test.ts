import { afterAll, beforeAll, expect, test } from "bun:test";
import type { ProducerRecord } from "../../log/log.ts";
import type { DeadLetter } from "../../messages/dead-letter.ts";
import { frame, payloadOf } from "../../messages/schema-registry/wire-format.ts";
import { Topics } from "../../messages/topics.ts";
import type { RunningNode } from "../../node/start-node.ts";
import { HostileInput, seededRandom } from "../api/fuzz-input.ts";
import { eventually, startTestNode } from "./node-fixture.ts";

/**
 * The Kafka records of the market and news rooms as an attacker writes them: tombstones, records
 * without a key, empty values, JSON without the registry's frame, a frame naming a schema nobody
 * registered, deep nesting, random bytes, values of the wrong shape. Each one becomes a dead
 * letter on `<topic>.dlq` with its code and reason, the room's group commits past it, and the
 * node keeps answering /health as ready.
 */
let node: RunningNode;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  ({ node, cleanup } = await startTestNode({
    market: "on",
    marketSources: "simulator",
    marketSymbols: "AAPL",
    news: "on",
    newsPollMs: 3_600_000,
    commitIntervalMs: 200,
  }));
});
afterAll(() => cleanup());

const encoder = new TextEncoder();
const text = (value: string) => encoder.encode(value);

function hostileValues(seed: number): { what: string; key: string | null; value: Uint8Array | null }[] {
  const input = new HostileInput(seededRandom(seed));
  const fixed: { what: string; key: string | null; value: Uint8Array | null }[] = [
    { what: "a tombstone", key: "AAPL", value: null },
    { what: "a record without a key", key: null, value: text("{}") },
    { what: "an empty value", key: "AAPL", value: new Uint8Array(0) },
    { what: "JSON without the frame", key: "AAPL", value: text('{"symbol":"AAPL","price":1}') },
    { what: "a frame naming no registered schema", key: "AAPL", value: frame(987_654, text("{}")) },
    { what: "JSON null in a frame", key: "AAPL", value: frame(1, text("null")) },
    { what: "10,000-deep nesting", key: "AAPL", value: text(input.deepJson(10_000)) },
    { what: "random bytes", key: "AAPL", value: input.bytes(1000) },
    { what: "a 200 KB string", key: "AAPL", value: text(JSON.stringify("x".repeat(200_000))) },
  ];
  const random = Array.from({ length: 20 }, (_, i) => ({
    what: `seeded value ${i}`,
    key: input.pick(["AAPL", "Mitte", "__proto__", input.scalarText().slice(0, 50)]),
    value:
      input.random() < 0.5
        ? text(JSON.stringify(input.json()))
        : frame(1 + input.int(3), text(JSON.stringify(input.json()))),
  }));
  return [...fixed, ...random];
}

async function deadLettersOn(topic: string): Promise<DeadLetter[]> {
  const letters: DeadLetter[] = [];
  for (let partition = 0; partition < ((await node.log.partitions(topic)) ?? 0); partition++)
    for (const record of await node.log.read({ topic, partition }, { fromOffset: 0, maxRecords: 10_000 })) {
      const bytes = record.value ?? new Uint8Array(0);
      // the market room writes plain JSON letters, the news room framed ones
      const json = bytes[0] === 0 ? payloadOf(bytes) : bytes;
      letters.push(JSON.parse(new TextDecoder().decode(json)) as DeadLetter);
    }
  return letters;
}

for (const [room, topic, group] of [
  ["market", Topics.marketTradesRaw, "markets"],
  ["news", Topics.newsArticlesRaw, "news"],
] as const)
  test(`hostile records on ${topic} become dead letters with reasons; the ${room} room commits past them`, async () => {
    const seed = Number(process.env.FUZZ_SEED ?? 4_242);
    const hostile = hostileValues(seed);
    const records: ProducerRecord[] = hostile.map(({ key, value }) => ({ topic, key, value }));
    const positions = await node.log.append(records);
    const letters = await eventually(
      () => deadLettersOn(Topics.deadLettersOf(topic)),
      (found) => found.length >= hostile.length,
      30_000,
    );
    // a seeded value may be a valid record by chance; none is: every one is a letter
    expect(letters).toHaveLength(hostile.length);
    for (const letter of letters) {
      expect(letter.code).toMatch(/^[A-Z_]+$/);
      expect(letter.reason.length).toBeGreaterThan(0);
      expect(letter.reason).not.toMatch(/\bat .+\(|node_modules/);
    }
    const last = new Map<number, number>();
    for (const p of positions) last.set(p.partition, Math.max(last.get(p.partition) ?? -1, p.offset));
    const committed = await eventually(
      () => node.log.groupOffsets(`${node.config.applicationId}-${group}`, topic),
      (offsets) => [...last].every(([partition, offset]) => (offsets.get(partition) ?? 0) > offset),
      30_000,
    );
    for (const [partition, offset] of last) expect(committed.get(partition)).toBeGreaterThan(offset);
    const health = await fetch(`${node.apiUrl}/health`);
    expect(health.status).toBe(200);
  }, 90_000);
