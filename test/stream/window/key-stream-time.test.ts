import { describe, expect, test } from "bun:test";
import { PartitionWatermarks } from "../../../stream/watermark/partition-watermarks.ts";
import { hopping, sliding, tumbling, type WindowAssigner } from "../../../stream/window/window-assigner.ts";
import { createWindowOperator, type WindowOperator } from "../../../stream/window/window-operator.ts";
import {
  clearWindowOutput,
  createWindowOutput,
  type WindowOutput,
} from "../../../stream/window/window-output.ts";
import { appliedOffsetOf } from "../../../stream/window/window-snapshot-bytes.ts";

/**
 * Conformance: one operator for a partition's keys with per-key stream time gives every key
 * exactly what an operator of the key's own (the node's per-sensor window operator) gave it,
 * whatever order the keys' records are interleaved in, including late records, grace, and the
 * node's watermark (with an idle partition), which woke a key's own operator only when one of
 * its windows could close.
 */

interface Reading {
  readonly partition: number;
  readonly key: string;
  readonly eventTime: number;
  readonly v: number;
}

function random(seed: number): () => number {
  let state = seed;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4_294_967_296;
  };
}

const T0 = 1_700_000_000_000;

/** per key, in log order: mostly increasing event time, some out of order, some far behind */
function readings(seed: number, keys: number, perKey: number): Reading[][] {
  const next = random(seed);
  return Array.from({ length: keys }, (_, k) => {
    const partition = k % 3;
    let t = T0 + Math.floor(next() * 5_000);
    return Array.from({ length: perKey }, () => {
      t += Math.floor(next() * 4_000);
      const roll = next();
      const eventTime = roll < 0.1 ? t - 40_000 : roll < 0.3 ? t - Math.floor(next() * 3_000) : t;
      return { partition, key: `sensor-${k}`, eventTime, v: Math.floor(next() * 100) };
    });
  });
}

/** the keys' streams merged in a random order that keeps each key's own order */
function interleave(streams: Reading[][], seed: number): Reading[] {
  const next = random(seed);
  const cursors = streams.map(() => 0);
  const merged: Reading[] = [];
  for (;;) {
    const open = cursors.flatMap((c, k) => (c < streams[k]!.length ? [k] : []));
    if (open.length === 0) return merged;
    const k = open[Math.floor(next() * open.length)]!;
    merged.push(streams[k]![cursors[k]!++]!);
  }
}

type Seen = Map<string, unknown[]>;

function collect(out: WindowOutput, into: Seen): void {
  const note = (key: string, item: unknown) => {
    const list = into.get(key) ?? [];
    list.push(item);
    into.set(key, list);
  };
  for (const w of out.emitted)
    note(w.key, ["window", w.windowStart, w.windowEnd, w.count, w.aggregates.v, w.final]);
  for (const r of out.late) note(r.key, ["late", r.eventTime, r.reason, r.watermark]);
  clearWindowOutput(out);
}

const cases: [string, WindowAssigner, "on-update" | "final", number][] = [
  ["tumbling, final, no grace", tumbling(10_000), "final", 0],
  ["tumbling, on-update, grace", tumbling(10_000), "on-update", 5_000],
  ["hopping, final, grace", hopping(30_000, 10_000), "final", 15_000],
  ["hopping, on-update, no grace", hopping(30_000, 10_000), "on-update", 0],
];

describe("window operator with per-key stream time", () => {
  test.each(cases)("gives each key what its own operator gives it: %s", (_name, assigner, emit, graceMs) => {
    const clock = { now: T0 + 60_000 };
    const config = {
      assigner,
      aggregators: { v: ["count", "sum", "min", "max"] as const },
      graceMs,
      emit,
      clock: () => clock.now,
      watermark: { maxOutOfOrdernessMs: 2_000 },
    };
    const streams = readings(11, 12, 60);
    for (const seed of [1, 2, 3]) {
      const input = interleave(streams, seed);
      // one operator per partition, per-key stream time
      const shared = [0, 1, 2].map(() =>
        createWindowOperator({ ...config, watermark: { ...config.watermark, streamTime: "key" } }),
      );
      // (the rebuild below replaces these)
      // the reference: an operator per key, told every node watermark
      const own = new Map<string, WindowOperator>();
      const ownOf = (key: string) => {
        let operator = own.get(key);
        if (!operator) {
          operator = createWindowOperator(config);
          own.set(key, operator);
        }
        return operator;
      };
      // the node's watermark over the 3 partitions; partition 2 goes quiet halfway (idle)
      const node = new PartitionWatermarks(2_000, 20_000);
      const got: Seen = new Map();
      const want: Seen = new Map();
      const out = createWindowOutput();
      let lastWatermark = Number.NEGATIVE_INFINITY;
      const keyMode = () =>
        createWindowOperator({ ...config, watermark: { ...config.watermark, streamTime: "key" } });
      input.forEach((r, i) => {
        if (i === Math.floor(input.length / 3)) {
          // state kept per key (the changelog's form): each partition's operator is rebuilt
          // from its keys' states, half taken from it, half from the keys' own operators
          // (the form an operator per key wrote: older changelogs)
          [0, 1, 2].forEach((partition) => {
            const rebuilt = keyMode();
            for (const [key, operator] of own) {
              if (Number(key.slice(7)) % 3 !== partition) continue;
              const state =
                Number(key.slice(7)) % 2 === 0 ? shared[partition]!.snapshotKey(key) : operator.snapshot();
              rebuilt.restoreKey(key, JSON.parse(JSON.stringify(state)));
            }
            shared[partition] = rebuilt;
          });
        }
        if (r.partition === 2 && i > input.length / 2) return;
        clock.now += 50;
        shared[r.partition]!.process(r.partition, r.key, r.eventTime, { v: r.v }, out);
        collect(out, got);
        ownOf(r.key).process(r.partition, r.key, r.eventTime, { v: r.v }, out);
        collect(out, want);
        node.observe(r.partition, r.eventTime, clock.now);
        if (i % 25 === 24) {
          node.checkIdle(clock.now);
          if (node.current > lastWatermark) {
            lastWatermark = node.current;
            for (const operator of shared) operator.advanceWatermark(lastWatermark, out);
            collect(out, got);
            // as the partition host wakes them: only those with a window the watermark closes
            for (const operator of own.values())
              if (operator.nextCloseAt() <= lastWatermark) operator.advanceWatermark(lastWatermark, out);
            collect(out, want);
          }
        }
      });
      // a snapshot / restore in the middle of nothing changes what comes next
      const restored = shared.map((operator) => {
        const copy = createWindowOperator({
          ...config,
          watermark: { ...config.watermark, streamTime: "key" },
        });
        copy.restore(JSON.parse(JSON.stringify(operator.snapshot())));
        return copy;
      });
      for (const operator of restored) operator.flush(out);
      collect(out, got);
      for (const operator of own.values()) operator.flush(out);
      collect(out, want);
      expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
      for (const [key, items] of want) expect({ key, items: got.get(key) }).toEqual({ key, items });
      const late = [...want.values()].flat().filter((item) => (item as unknown[])[0] === "late");
      expect(late.length).toBeGreaterThan(0);
    }
  });

  test("a watermark that ran ahead makes late only the keys whose windows it closed (regression: the 100k-sensor peer run lost readings of sensors with no open window)", () => {
    const operator = createWindowOperator({
      assigner: tumbling(10_000),
      aggregators: { v: ["count"] },
      watermark: { streamTime: "key" },
      clock: () => T0 + 60_000,
    });
    const out = createWindowOutput();
    operator.process(0, "a", T0 + 1_000, { v: 1 }, out);
    // an idle partition let the node's watermark run ahead: it closes a's window
    operator.advanceWatermark(T0 + 30_000, out);
    expect(out.emitted.map((w) => [w.key, w.final])).toEqual([["a", true]]);
    operator.process(0, "a", T0 + 2_000, { v: 1 }, out);
    operator.process(0, "b", T0 + 2_000, { v: 1 }, out);
    expect(out.late.map((r) => r.key)).toEqual(["a"]);
    operator.flush(out);
    expect(out.emitted.filter((w) => w.key === "b").map((w) => w.count)).toEqual([1]);
  });

  test("a key's state cannot be restored over open windows of the same key", () => {
    const operator = createWindowOperator({
      assigner: tumbling(1_000),
      aggregators: { v: ["count"] },
      watermark: { streamTime: "key" },
      clock: () => T0,
    });
    const out = createWindowOutput();
    operator.process(0, "a", T0 - 500, { v: 1 }, out);
    expect(() => operator.restoreKey("a", operator.snapshotKey("a")!)).toThrow("already has open windows");
    expect(operator.snapshotKey("never seen")).toBeUndefined();
  });

  // the changelog keeps a key's state as its own operator's bytes: written straight from the
  // shared operator's rows, they must say what the key's JSON state says
  test.each([
    ["tumbling, moments", tumbling(10_000), { v: ["count", "sum", "min", "max"] as const }],
    ["hopping, t-digest", hopping(20_000, 5_000), { v: ["count", { quantiles: [0.5] }] as const }],
    ["sliding, its record buffer", sliding(10_000), { v: ["count", "sum"] as const }],
  ])("a key's own bytes restore to the state its JSON gives: %s", (_name, assigner, aggregators) => {
    const config = {
      assigner,
      aggregators,
      watermark: { maxOutOfOrdernessMs: 1_000 },
      clock: () => T0 + 60_000,
    };
    const shared = createWindowOperator({ ...config, watermark: { ...config.watermark, streamTime: "key" } });
    const out = createWindowOutput();
    for (let i = 0; i < 40; i++) shared.process(3, `k${i % 4}`, T0 + i * 700 - (i % 3) * 900, { v: i }, out);
    shared.advanceWatermark(T0 + 9_000, out);
    const fromJson = createWindowOperator(config);
    const fromBytes = createWindowOperator(config);
    for (const key of ["k0", "k1", "k2", "k3"]) {
      fromJson.restore(shared.snapshotKey(key)!);
      const bytes = shared.snapshotKeyBytes(key, 41, 3)!;
      expect(appliedOffsetOf(bytes)).toBe(41);
      fromBytes.restore(bytes);
      const json = fromJson.snapshot();
      expect(json.windows.length).toBeGreaterThan(0);
      expect(fromBytes.snapshot()).toEqual(json);
    }
    expect(shared.snapshotKeyBytes("never seen", 0, 3)).toBeUndefined();
  });

  // snapshotKeyBytes refills one source per operator for every key it writes (a checkpoint
  // writes one state per changed key): nothing of one key, nor of the state before a restore,
  // may leak into the next key's bytes
  test("a key's own bytes do not depend on the keys written before it, nor on the state before a restore", () => {
    const config = {
      assigner: tumbling(10_000),
      aggregators: { v: ["count", "sum", "min", "max"] as const },
      watermark: { maxOutOfOrdernessMs: 1_000, streamTime: "key" as const },
      clock: () => T0 + 60_000,
    };
    const keys = ["k0", "capteur-é", "🚦-3", "k3"];
    const fed = (seed: number) => {
      const operator = createWindowOperator(config);
      const out = createWindowOutput();
      const next = random(seed);
      for (let i = 0; i < 40; i++)
        operator.process(i % 3, keys[i % 4]!, T0 + Math.floor(next() * 30_000), { v: i }, out);
      return operator;
    };
    const forward = fed(7);
    const backward = fed(7);
    const inOrder = keys.map((key, i) => forward.snapshotKeyBytes(key, i, 2)!);
    const reversed = [...keys]
      .reverse()
      .map((key) => backward.snapshotKeyBytes(key, keys.indexOf(key), 2)!)
      .reverse();
    expect(reversed).toEqual(inOrder);
    // a key's bytes name it in UTF-8, whatever its characters
    for (const [i, key] of keys.entries()) {
      const own = createWindowOperator(config);
      own.restoreKeyBytes(key, inOrder[i]!);
      const windows = (operator: WindowOperator) =>
        operator.snapshotKey(key)!.windows.map(({ key, start, end, state }) => ({ key, start, end, state }));
      expect(windows(own)).toEqual(windows(forward));
    }
    // restored from another operator's state: the keys' bytes are the restored ones
    const other = fed(11);
    forward.restore(other.snapshotBytes());
    for (const [i, key] of keys.entries())
      expect(forward.snapshotKeyBytes(key, i, 2)).toEqual(other.snapshotKeyBytes(key, i, 2)!);
    expect(other.snapshotKeyBytes(keys[0]!, 0, 2)).not.toEqual(inOrder[0]);
  });

  test("refuses per-key stream time on processing time", () => {
    expect(() =>
      createWindowOperator({
        assigner: tumbling(1_000),
        aggregators: { v: ["count"] },
        timeDomain: "processing",
        watermark: { streamTime: "key" },
      }),
    ).toThrow("per-key stream time needs event time");
  });
});
