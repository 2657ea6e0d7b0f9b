import { afterAll, describe, expect, test } from "bun:test";
import { storedBytesCodec } from "../../../log/changelog/state-codec.ts";
import type { CorruptRecordHandler, StateCodec, StateStore } from "../../../log/changelog/state-store.ts";
import { ErrorCodes, isPlatformError } from "../../../messages/errors.ts";
import { partitionFor } from "../../../messages/murmur2.ts";

/**
 * The StateStore contract: in-memory, changelog on the embedded log and changelog on Kafka all
 * run this suite. Each test opens its own store over a fresh backend (a unique application id).
 */
export interface OpenedStore {
  readonly store: StateStore;
  /** a new store over the same durable state, as a node after a restart or a failover */
  reopen(): Promise<StateStore>;
  /** write raw bytes as a changelog record behind the store's back (corruption) */
  writeRaw(partition: number, key: string, value: Uint8Array | null): Promise<void>;
  /** compact now where the backend can; false where it cannot be forced (Kafka's cleaner) */
  compact(): Promise<boolean>;
}

export interface StateStoreFixture {
  open(options: {
    partitions: number;
    onCorrupt?: CorruptRecordHandler;
    codec?: StateCodec;
  }): Promise<OpenedStore>;
  cleanup(): Promise<void>;
}

export const CONTRACT_TIMEOUT_MS = 60_000;
const encoder = new TextEncoder();

async function restoredOf(store: StateStore, partition: number): Promise<Map<string, unknown>> {
  const handed = new Map<string, unknown>();
  const { states } = await store.restorePartition(partition, (key, state) => handed.set(key, state));
  expect(handed).toEqual(states);
  return states;
}

function expectCode(action: () => unknown, code: string): Error {
  try {
    action();
  } catch (error) {
    if (!isPlatformError(error) || error.code !== code) throw error;
    return error;
  }
  throw new Error(`expected a PlatformError ${code}, but the call succeeded`);
}

export function stateStoreContract(name: string, fixture: () => Promise<StateStoreFixture>): void {
  describe(`StateStore contract: ${name}`, () => {
    let opened: StateStoreFixture | undefined;
    const open = async (partitions: number, onCorrupt?: CorruptRecordHandler, codec?: StateCodec) => {
      opened ??= await fixture();
      return opened.open({
        partitions,
        ...(onCorrupt === undefined ? {} : { onCorrupt }),
        ...(codec === undefined ? {} : { codec }),
      });
    };
    afterAll(async () => {
      await opened?.cleanup();
    });

    test(
      "restore gives the latest value of each key, before and after compaction",
      async () => {
        const { store, compact } = await open(2);
        for (let version = 1; version <= 3; version++) {
          store.put(0, "a", { version });
          store.put(1, "b", { version: version * 10 });
          await store.flush();
        }
        expect(await restoredOf(store, 0)).toEqual(new Map([["a", { version: 3 }]]));
        expect(await restoredOf(store, 1)).toEqual(new Map([["b", { version: 30 }]]));
        await compact();
        expect(await restoredOf(store, 0)).toEqual(new Map([["a", { version: 3 }]]));
        expect(await store.restore([0, 1])).toEqual(
          new Map<string, unknown>([
            ["a", { version: 3 }],
            ["b", { version: 30 }],
          ]),
        );
      },
      CONTRACT_TIMEOUT_MS,
    );

    test(
      "with the node's codec a restore hands on each key's newest bytes exactly as stored: binary and JSON alike, overwritten and deleted keys, before and after compaction, from a new store",
      async () => {
        const { store, compact, reopen, writeRaw } = await open(1, undefined, storedBytesCodec);
        const binary = (n: number) => Uint8Array.of(0x01, n, 0x00, 0xff, 0x7b);
        const json = (n: number) => encoder.encode(JSON.stringify({ n }));
        store.put(0, "window-a", binary(1));
        store.put(0, "sensor-b", json(1));
        store.put(0, "deleted", binary(9));
        await store.flush();
        store.put(0, "window-a", binary(2));
        store.delete(0, "deleted");
        await store.flush();
        // a state written as JSON by a node before the bytes (the older changelog's form)
        await writeRaw(0, "sensor-b", json(2));
        // a state that is not bytes yet is stored as its JSON
        store.put(0, "plain", { n: 3 });
        await store.flush();
        const expected = new Map<string, unknown>([
          ["window-a", binary(2)],
          ["sensor-b", json(2)],
          ["plain", json(3)],
        ]);
        const restored = await restoredOf(store, 0);
        expect(restored).toEqual(expected);
        for (const state of restored.values()) expect(state).toBeInstanceOf(Uint8Array);
        await compact();
        expect(await restoredOf(store, 0)).toEqual(expected);
        const reopened = await reopen();
        expect(await restoredOf(reopened, 0)).toEqual(expected);
      },
      CONTRACT_TIMEOUT_MS,
    );

    test(
      "a delete is a tombstone: the key is not restored, and a later put brings it back",
      async () => {
        const { store, compact } = await open(1);
        store.put(0, "gone", 1);
        store.put(0, "back", 1);
        store.put(0, "kept", 1);
        await store.flush();
        store.delete(0, "gone");
        store.delete(0, "back");
        await store.flush();
        store.put(0, "back", 2);
        await store.flush();
        const expected = new Map<string, unknown>([
          ["back", 2],
          ["kept", 1],
        ]);
        expect(await restoredOf(store, 0)).toEqual(expected);
        await compact();
        expect(await restoredOf(store, 0)).toEqual(expected);
        expect(store.stats().tombstonesWritten).toBe(2);
      },
      CONTRACT_TIMEOUT_MS,
    );

    test(
      "flushed state survives a new store over the same backend; unflushed puts do not",
      async () => {
        const { store, reopen } = await open(3);
        store.put(1, "durable", { n: 1 });
        await store.flush();
        store.put(1, "buffered-only", { n: 2 });
        const reopened = await reopen();
        expect(await restoredOf(reopened, 1)).toEqual(new Map([["durable", { n: 1 }]]));
        expect(store.stats().bufferedKeys).toBe(1);
      },
      CONTRACT_TIMEOUT_MS,
    );

    test(
      "state goes to the partition it is put in, not the one its key hashes to",
      async () => {
        const { store } = await open(4);
        const key = "sensor_7";
        const elsewhere = (partitionFor(key, 4) + 1) % 4;
        store.put(elsewhere, key, "here");
        await store.flush();
        expect(await restoredOf(store, elsewhere)).toEqual(new Map([[key, "here"]]));
        expect((await restoredOf(store, partitionFor(key, 4))).size).toBe(0);
      },
      CONTRACT_TIMEOUT_MS,
    );

    test(
      "one partition restores on its own, with only its keys, while others are never read",
      async () => {
        const { store, reopen } = await open(3);
        for (let i = 0; i < 30; i++) store.put(i % 3, `k${i}`, i);
        await store.flush();
        const reopened = await reopen();
        const restored = await reopened.restorePartition(2, () => undefined);
        expect(restored).toMatchObject({ partition: 2, records: 10, keys: 10, corrupt: 0 });
        expect([...(await restoredOf(reopened, 2)).keys()].sort()).toEqual(
          Array.from({ length: 10 }, (_, i) => `k${i * 3 + 2}`).sort(),
        );
        expect(reopened.stats().restores.map((r) => r.partition)).toEqual([2]);
      },
      CONTRACT_TIMEOUT_MS,
    );

    test(
      "many puts of one key between flushes become one record",
      async () => {
        const { store, reopen } = await open(1);
        for (let i = 0; i < 1000; i++) store.put(0, "hot", { count: i });
        expect(store.stats()).toMatchObject({ bufferedKeys: 1, overwrittenInBuffer: 999 });
        await store.flush();
        expect(store.stats()).toMatchObject({ recordsWritten: 1, flushes: 1, bufferedKeys: 0 });
        const restored = await (await reopen()).restorePartition(0, () => undefined);
        expect(restored.records).toBe(1);
        expect(await restoredOf(store, 0)).toEqual(new Map([["hot", { count: 999 }]]));
      },
      CONTRACT_TIMEOUT_MS,
    );

    test(
      "an empty flush writes nothing and restoring an empty partition gives no keys",
      async () => {
        const { store } = await open(2);
        await store.flush();
        expect(store.stats().flushes).toBe(0);
        expect(await store.restorePartition(1, () => undefined)).toMatchObject({ records: 0, keys: 0 });
      },
      CONTRACT_TIMEOUT_MS,
    );

    const unserialisable: [string, unknown][] = [
      ["a bigint", { count: 1n }],
      [
        "a cycle",
        (() => {
          const cycle: Record<string, unknown> = {};
          cycle.self = cycle;
          return cycle;
        })(),
      ],
      ["undefined", undefined],
      ["a function", () => 1],
    ];
    for (const [what, state] of unserialisable) {
      test(`a state holding ${what} is a SCHEMA_VIOLATION naming the key, and nothing is buffered`, async () => {
        const { store } = await open(1);
        const error = expectCode(() => store.put(0, "bad-key", state), ErrorCodes.SCHEMA_VIOLATION);
        expect(error.message).toContain("bad-key");
        expect(store.stats().bufferedKeys).toBe(0);
      });
    }

    test("a partition outside the store is LOG_PARTITION_INVALID", async () => {
      const { store } = await open(2);
      for (const partition of [-1, 2, 1.5]) {
        expectCode(() => store.put(partition, "k", 1), ErrorCodes.LOG_PARTITION_INVALID);
        expectCode(() => store.delete(partition, "k"), ErrorCodes.LOG_PARTITION_INVALID);
      }
      await expect(store.restorePartition(2, () => undefined)).rejects.toMatchObject({
        code: ErrorCodes.LOG_PARTITION_INVALID,
      });
    });

    test(
      "a corrupt changelog record is skipped and reported, and the other keys restore",
      async () => {
        const reports: { key: string | null; partition: number; offset: number }[] = [];
        const { store, writeRaw } = await open(2, (key, partition, offset) =>
          reports.push({ key, partition, offset }),
        );
        store.put(1, "good", { ok: true });
        await store.flush();
        await writeRaw(1, "torn", encoder.encode('{"half":'));
        await writeRaw(1, "binary", new Uint8Array([0xff, 0xfe, 0x00]));
        expect(await restoredOf(store, 1)).toEqual(new Map([["good", { ok: true }]]));
        expect(reports.map((report) => [report.key, report.partition]).sort()).toEqual([
          ["binary", 1],
          ["torn", 1],
        ]);
        expect(reports.every((report) => Number.isInteger(report.offset) && report.offset >= 1)).toBe(true);
        expect(store.stats().corruptRecords).toBe(2);
      },
      CONTRACT_TIMEOUT_MS,
    );

    test(
      "100,000 keys over 4 partitions restore exactly, latest value each",
      async () => {
        const { store, reopen } = await open(4);
        const keys = 100_000;
        for (let i = 0; i < keys; i++) store.put(i % 4, `window_${i}`, { i, sum: i * 0.5 });
        await store.flush();
        for (let i = 0; i < keys; i += 10) store.put(i % 4, `window_${i}`, { i, sum: -i });
        for (let i = 5; i < keys; i += 10) store.delete(i % 4, `window_${i}`);
        await store.flush();
        const restored = await (await reopen()).restore([0, 1, 2, 3]);
        expect(restored.size).toBe(keys - keys / 10);
        let mismatches = 0;
        for (let i = 0; i < keys; i++) {
          const state = restored.get(`window_${i}`) as { i: number; sum: number } | undefined;
          const expected = i % 10 === 5 ? undefined : { i, sum: i % 10 === 0 ? -i : i * 0.5 };
          if (JSON.stringify(state) !== JSON.stringify(expected)) mismatches++;
        }
        expect(mismatches).toBe(0);
      },
      CONTRACT_TIMEOUT_MS * 2,
    );
  });
}
