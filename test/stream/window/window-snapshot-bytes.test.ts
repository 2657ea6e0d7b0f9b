import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import type { AggregatorSpec } from "../../../stream/aggregate/aggregator.ts";
import { quantilesAggregator } from "../../../stream/aggregate/quantiles.ts";
import {
  hopping,
  session,
  sliding,
  tumbling,
  type WindowAssigner,
} from "../../../stream/window/window-assigner.ts";
import {
  createWindowOperator,
  type EmitMode,
  type WindowOperator,
  type WindowOperatorConfig,
} from "../../../stream/window/window-operator.ts";
import { createWindowOutput, type WindowOutput } from "../../../stream/window/window-output.ts";
import {
  appliedOffsetOf,
  isSnapshotBytes,
  WINDOW_SNAPSHOT_FORMAT,
} from "../../../stream/window/window-snapshot-bytes.ts";

/** A deterministic stream: 3 partitions, 20 keys, jittered event times, some late and bad records. */
function streamOf(count: number): [number, string, number, Record<string, number>][] {
  let seed = 4242;
  const next = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 4294967296;
  };
  const rows: [number, string, number, Record<string, number>][] = [];
  for (let i = 0; i < count; i++) {
    const jitter = next() < 0.05 ? -20_000 : Math.floor(next() * 3_000) - 1_500;
    rows.push([
      i % 3,
      // a key outside ASCII: the key table is UTF-8
      `sensor-${Math.floor(next() * 20)}${i % 7 === 0 ? "é" : ""}`,
      1_000_000 + i * 97 + jitter,
      { speed: next() < 0.01 ? Number.NaN : Math.round(next() * 1000) / 10, count: Math.floor(next() * 50) },
    ]);
  }
  return rows;
}

const moments: Record<string, AggregatorSpec[]> = {
  speed: ["count", "mean", "min", "max", "variance"],
  count: ["sum"],
};
/** quantiles keep a t-digest per window: the custom aggregator states travel as JSON inside */
const withDigest: Record<string, AggregatorSpec[]> = {
  speed: ["count", "mean", { quantiles: [0.5, 0.9] }],
  count: ["sum"],
};

function operatorOf(
  assigner: WindowAssigner,
  emit: EmitMode,
  aggregators: Record<string, AggregatorSpec[]>,
  clock: { now: number },
  extra: Partial<WindowOperatorConfig> = {},
): WindowOperator {
  return createWindowOperator({
    assigner,
    aggregators,
    emit,
    graceMs: 2_000,
    watermark: { maxOutOfOrdernessMs: 3_000, idleTimeoutMs: 60_000 },
    clock: () => clock.now,
    ...extra,
  });
}

/** the stream through one operator, or through one that is saved as bytes and restored at `at` */
function run(
  assigner: WindowAssigner,
  emit: EmitMode,
  aggregators: Record<string, AggregatorSpec[]>,
  rows: ReturnType<typeof streamOf>,
  at: number | null,
  extra: Partial<WindowOperatorConfig> = {},
): WindowOutput {
  const clock = { now: 2_000_000 };
  let operator = operatorOf(assigner, emit, aggregators, clock, extra);
  const out = createWindowOutput();
  rows.forEach(([partition, key, eventTime, values], i) => {
    if (i === at) {
      const bytes = operator.snapshotBytes(i);
      expect(appliedOffsetOf(bytes)).toBe(i);
      operator = operatorOf(assigner, emit, aggregators, clock, extra);
      operator.restore(bytes);
    }
    clock.now = 2_000_000 + i;
    operator.process(partition, key, eventTime, values, out);
    if (i % 500 === 0) operator.advanceProcessingTime(clock.now, out);
  });
  operator.flush(out);
  return out;
}

describe("window snapshot bytes", () => {
  const assigners: [string, WindowAssigner][] = [
    ["tumbling", tumbling(10_000)],
    ["hopping", hopping(10_000, 2_500)],
    ["session", session(300)],
    ["sliding", sliding(2_000)],
  ];
  const cases: [string, Record<string, AggregatorSpec[]>, Partial<WindowOperatorConfig>][] = [
    ["moments", moments, {}],
    ["a t-digest", withDigest, {}],
    ["per-key stream time", moments, { watermark: { maxOutOfOrdernessMs: 3_000, streamTime: "key" } }],
  ];
  for (const [name, assigner] of assigners)
    for (const emit of ["final", "on-update"] as const)
      for (const [what, aggregators, extra] of cases)
        test(`a ${name} operator (${emit}, ${what}) restored from bytes emits exactly what an uninterrupted one does`, () => {
          const rows = streamOf(3_000);
          const golden = run(assigner, emit, aggregators, rows, null, extra);
          expect(golden.emitted.length).toBeGreaterThan(10);
          expect(golden.late.length).toBeGreaterThan(0);
          for (const at of [1, 1_234, 2_999]) {
            const restored = run(assigner, emit, aggregators, rows, at, extra);
            expect(restored.emitted).toEqual(golden.emitted);
            expect(restored.late).toEqual(golden.late);
            expect(restored.rejected).toEqual(golden.rejected);
          }
        });

  test("bytes restore the same state as the JSON snapshot, and take less room", () => {
    const clock = { now: 2_000_000 };
    const operator = operatorOf(tumbling(10_000), "on-update", moments, clock);
    const out = createWindowOutput();
    for (const [partition, key, eventTime, values] of streamOf(500))
      operator.process(partition, key, eventTime, values, out);
    const bytes = operator.snapshotBytes(499);
    const copy = operatorOf(tumbling(10_000), "on-update", moments, clock);
    copy.restore(bytes);
    const fromJson = operatorOf(tumbling(10_000), "on-update", moments, clock);
    fromJson.restore(JSON.parse(JSON.stringify(operator.snapshot())));
    // the JSON form has no Infinity (an empty min / max): compare as the JSON form sees both
    expect(JSON.parse(JSON.stringify(copy.snapshot()))).toEqual(
      JSON.parse(JSON.stringify(operator.snapshot())),
    );
    expect(copy.stats()).toEqual(fromJson.stats());
    expect(isSnapshotBytes(bytes)).toBe(true);
    expect(bytes[0]).toBe(WINDOW_SNAPSHOT_FORMAT);
    expect(bytes.length).toBeLessThan(JSON.stringify(operator.snapshot()).length);
  });

  test("bytes at any alignment restore (a changelog record is a view into a fetched batch)", () => {
    const clock = { now: 2_000_000 };
    const operator = operatorOf(tumbling(10_000), "final", moments, clock);
    const out = createWindowOutput();
    for (const [partition, key, eventTime, values] of streamOf(200))
      operator.process(partition, key, eventTime, values, out);
    const bytes = operator.snapshotBytes();
    for (const shift of [1, 3, 8]) {
      const buffer = new Uint8Array(bytes.length + shift);
      buffer.set(bytes, shift);
      const copy = operatorOf(tumbling(10_000), "final", moments, clock);
      copy.restore(buffer.subarray(shift));
      expect(copy.snapshot()).toEqual(operator.snapshot());
    }
  });

  test("a JSON snapshot is not taken for bytes: it starts with '{'", () => {
    const operator = operatorOf(tumbling(1_000), "final", moments, { now: 0 });
    expect(isSnapshotBytes(new TextEncoder().encode(JSON.stringify(operator.snapshot())))).toBe(false);
  });
});

describe("window snapshot bytes refused", () => {
  const clock = { now: 2_000_000 };
  const saved = (() => {
    const operator = operatorOf(session(300), "final", withDigest, clock);
    const out = createWindowOutput();
    for (const [partition, key, eventTime, values] of streamOf(300))
      operator.process(partition, key, eventTime, values, out);
    return operator.snapshotBytes(7);
  })();
  const fresh = () => operatorOf(session(300), "final", withDigest, clock);

  const broken: [string, () => Uint8Array, string][] = [
    ["empty", () => new Uint8Array(0), "DECODE_FAILED"],
    ["an unknown format byte", () => Uint8Array.from(saved, (b, i) => (i === 0 ? 3 : b)), "DECODE_FAILED"],
    ["cut short", () => saved.subarray(0, saved.length - 5), "DECODE_FAILED"],
    ["cut in its header", () => saved.subarray(0, 40), "DECODE_FAILED"],
    ["with bytes after its end", () => Uint8Array.from([...saved, 0, 0]), "DECODE_FAILED"],
    [
      "a window count past its end",
      () => {
        const copy = saved.slice();
        new DataView(copy.buffer).setUint32(68, 0xffffffff, true);
        return copy;
      },
      "DECODE_FAILED",
    ],
    [
      "a key count past its end",
      () => {
        const copy = saved.slice();
        new DataView(copy.buffer).setUint32(80, 1_000_000, true);
        return copy;
      },
      "DECODE_FAILED",
    ],
    [
      "another field list",
      () => operatorOf(session(300), "final", { speed: ["count"] }, clock).snapshotBytes(),
      "CONFIG_INVALID",
    ],
    [
      "another assigner",
      () => operatorOf(session(400), "final", withDigest, clock).snapshotBytes(),
      "CONFIG_INVALID",
    ],
  ];
  for (const [name, bytes, code] of broken)
    test(`a snapshot ${name} is refused with ${code}`, () => {
      expect(() => fresh().restore(bytes())).toThrow(code);
    });

  test("flipped bytes never restore a different state silently or throw anything but a platform error (bounded fuzz)", () => {
    let seed = 99;
    const next = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed;
    };
    const reference = fresh();
    reference.restore(saved);
    const golden = reference.snapshot();
    for (let round = 0; round < 300; round++) {
      const copy = saved.slice();
      for (let flips = 1 + (next() % 3); flips > 0; flips--) copy[next() % copy.length] = next() & 0xff;
      const operator = fresh();
      try {
        operator.restore(copy);
      } catch (error) {
        expect((error as { code?: string }).code).toMatch(/^(DECODE_FAILED|CONFIG_INVALID)$/);
        continue;
      }
      // a flip in a number restores that number; anything structural was refused
      expect(operator.snapshot().windows.length).toBe(golden.windows.length);
    }
  });
});

/**
 * The configuration check (issue 7). Format 0x01 compared a 32-bit FNV-1a of JSON [assigner,
 * fields]: the two tumbling sizes below hash alike, so a state of one restored silently into an
 * operator of the other; a changed t-digest compression or custom aggregator was not looked at.
 */
describe("window snapshot config check", () => {
  const clock = { now: 2_000_000 };
  const fnv1a = (text: string) => {
    let hash = 0x811c9dc5;
    for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
    return hash;
  };
  const [sizeA, sizeB] = [449_599_000, 612_382_000];
  const custom = (name: string): AggregatorSpec => ({ name, aggregator: quantilesAggregator([0.5], 100) });
  const snapshotOf = (assigner: WindowAssigner, aggregators: Record<string, AggregatorSpec[]>) => {
    const operator = operatorOf(assigner, "final", aggregators, clock);
    const out = createWindowOutput();
    for (const [partition, key, eventTime, values] of streamOf(200))
      operator.process(partition, key, eventTime, values, out);
    return operator.snapshotBytes(199);
  };

  test("the two tumbling sizes of the table share a format 0x01 hash", () => {
    const textOf = (sizeMs: number) => JSON.stringify([tumbling(sizeMs), ["speed", "count"]]);
    expect(fnv1a(textOf(sizeA))).toBe(fnv1a(textOf(sizeB)));
  });

  type Aggregators = Record<string, AggregatorSpec[]>;
  const cases: [string, [WindowAssigner, Aggregators], [WindowAssigner, Aggregators], string | null][] = [
    [
      "the same configuration built anew",
      [tumbling(10_000), withDigest],
      [tumbling(10_000), { ...withDigest }],
      null,
    ],
    [
      "an assigner whose keys come in another order",
      [tumbling(10_000), moments],
      [{ offsetMs: 0, sizeMs: 10_000, kind: "tumbling" } as WindowAssigner, moments],
      null,
    ],
    [
      "more moment statistics reported (a field's row holds every moment)",
      [tumbling(10_000), moments],
      [tumbling(10_000), { ...moments, count: ["sum", "max"] }],
      null,
    ],
    [
      "another tumbling size with the same 32-bit hash",
      [tumbling(sizeA), moments],
      [tumbling(sizeB), moments],
      "CONFIG_INVALID",
    ],
    [
      "another hopping advance",
      [hopping(10_000, 2_000), moments],
      [hopping(10_000, 2_500), moments],
      "CONFIG_INVALID",
    ],
    [
      "another t-digest compression",
      [tumbling(10_000), withDigest],
      [
        tumbling(10_000),
        { ...withDigest, speed: ["count", "mean", { quantiles: [0.5, 0.9], compression: 200 }] },
      ],
      "CONFIG_INVALID",
    ],
    [
      "the t-digest on another field",
      [tumbling(10_000), withDigest],
      [tumbling(10_000), { speed: ["count", "mean"], count: ["sum", { quantiles: [0.5, 0.9] }] }],
      "CONFIG_INVALID",
    ],
    [
      "a custom aggregator under another name",
      [tumbling(10_000), { ...moments, count: ["sum", custom("median")] }],
      [tumbling(10_000), { ...moments, count: ["sum", custom("middle")] }],
      "CONFIG_INVALID",
    ],
    [
      "another field list",
      [tumbling(10_000), moments],
      [tumbling(10_000), { speed: ["count"] }],
      "CONFIG_INVALID",
    ],
  ];
  for (const [name, [writerAssigner, writerAggregators], [readerAssigner, readerAggregators], code] of cases)
    test(`${name} ${code ? `is refused with ${code}` : "restores"}`, () => {
      const bytes = snapshotOf(writerAssigner, writerAggregators);
      expect(bytes[0]).toBe(WINDOW_SNAPSHOT_FORMAT);
      const reader = operatorOf(readerAssigner, "final", readerAggregators, clock);
      if (code) expect(() => reader.restore(bytes)).toThrow(code);
      else {
        reader.restore(bytes);
        expect(reader.stats()).toEqual(
          (() => {
            const writer = operatorOf(writerAssigner, "final", writerAggregators, clock);
            writer.restore(bytes);
            return writer.stats();
          })(),
        );
      }
    });

  /**
   * golden/window-snapshot-format-1.hex: a state written by the format 0x01 encoder (60 rows of
   * streamOf, tumbling 5 s, a t-digest on speed, applied offset 59), kept as it was written.
   */
  const format1 = Uint8Array.from(
    Buffer.from(
      readFileSync(`${import.meta.dir}/golden/window-snapshot-format-1.hex`, "utf8").replace(/\s/g, ""),
      "hex",
    ),
  );
  const format1Aggregators: Aggregators = {
    speed: ["count", "mean", { quantiles: [0.5, 0.9] }],
    count: ["sum"],
  };

  test("a format 0x01 state still restores, to the state of the operator that wrote it", () => {
    expect(format1[0]).toBe(0x01);
    expect(isSnapshotBytes(format1)).toBe(true);
    expect(appliedOffsetOf(format1)).toBe(59);
    const writer = operatorOf(tumbling(5_000), "final", format1Aggregators, clock);
    const out = createWindowOutput();
    for (const [partition, key, eventTime, values] of streamOf(60))
      writer.process(partition, key, eventTime, values, out);
    const reader = operatorOf(tumbling(5_000), "final", format1Aggregators, clock);
    reader.restore(format1);
    expect(JSON.parse(JSON.stringify(reader.snapshot()))).toEqual(
      JSON.parse(JSON.stringify(writer.snapshot())),
    );
    // its next checkpoint is written in the current format
    expect(reader.snapshotBytes(59)[0]).toBe(WINDOW_SNAPSHOT_FORMAT);
  });

  test("a format 0x01 state under another assigner is still refused with CONFIG_INVALID", () => {
    const reader = operatorOf(tumbling(10_000), "final", format1Aggregators, clock);
    expect(() => reader.restore(format1)).toThrow("CONFIG_INVALID");
  });
});
