import { describe, expect, test } from "bun:test";
import { isPlatformError } from "../../../messages/errors.ts";
import {
  hopping,
  session,
  sliding,
  tumbling,
  type WindowAssigner,
} from "../../../stream/window/window-assigner.ts";
import { createWindowOperator, type WindowOperator } from "../../../stream/window/window-operator.ts";
import { clearWindowOutput, createWindowOutput } from "../../../stream/window/window-output.ts";
import { feed, operatorFor, type Row, testClock, windows } from "./operator-harness.ts";

describe("tumbling windows on event time", () => {
  const cases: {
    name: string;
    bound: number;
    grace: number;
    rows: Row[];
    closed: [string, number, number, number, unknown, boolean][];
    late: number[];
  }[] = [
    {
      name: "a window closes when the watermark passes its end",
      bound: 0,
      grace: 0,
      rows: [
        [0, "a", 1_000, 1],
        [0, "a", 9_999, 2],
        [0, "a", 10_000, 4],
      ],
      closed: [["a", 0, 10_000, 2, 3, true]],
      late: [],
    },
    {
      name: "out-of-order records within the bound still count",
      bound: 5_000,
      grace: 0,
      rows: [
        [0, "a", 12_000, 1],
        [0, "a", 8_000, 2],
        [0, "a", 14_999, 4],
        [0, "a", 15_000, 8],
      ],
      closed: [["a", 0, 10_000, 1, 2, true]],
      late: [],
    },
    {
      name: "a record beyond bound and grace goes to the late output",
      bound: 1_000,
      grace: 0,
      rows: [
        [0, "a", 5_000, 1],
        [0, "a", 11_000, 2],
        [0, "a", 9_000, 4],
      ],
      closed: [["a", 0, 10_000, 1, 1, true]],
      late: [9_000],
    },
    {
      name: "the grace period keeps a window open past its end",
      bound: 0,
      grace: 2_000,
      rows: [
        [0, "a", 5_000, 1],
        [0, "a", 11_000, 2],
        [0, "a", 9_000, 4],
        [0, "a", 12_000, 8],
      ],
      closed: [["a", 0, 10_000, 2, 5, true]],
      late: [],
    },
    {
      name: "after the grace period the same record is late",
      bound: 0,
      grace: 2_000,
      rows: [
        [0, "a", 5_000, 1],
        [0, "a", 12_000, 2],
        [0, "a", 9_000, 4],
      ],
      closed: [["a", 0, 10_000, 1, 1, true]],
      late: [9_000],
    },
    {
      name: "keys keep separate windows that close together in creation order",
      bound: 0,
      grace: 0,
      rows: [
        [0, "b", 1_000, 1],
        [0, "a", 2_000, 2],
        [0, "b", 3_000, 4],
        [0, "a", 10_500, 8],
      ],
      closed: [
        ["b", 0, 10_000, 2, 5, true],
        ["a", 0, 10_000, 1, 2, true],
      ],
      late: [],
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const operator = operatorFor({
        assigner: tumbling(10_000),
        watermark: { maxOutOfOrdernessMs: c.bound },
        graceMs: c.grace,
      });
      const out = feed(operator, c.rows);
      expect(windows(out)).toEqual(c.closed);
      expect(out.late.map((r) => r.eventTime)).toEqual(c.late);
      for (const record of out.late) expect(record.reason).toBe("window closed");
      expect(operator.stats().late).toBe(c.late.length);
    });
  }
});

describe("hopping windows", () => {
  test("a record is aggregated into every window that contains it and each closes once", () => {
    const operator = operatorFor({ assigner: hopping(10_000, 5_000) });
    const out = feed(operator, [
      [0, "a", 7_000, 1],
      [0, "a", 12_000, 2],
    ]);
    operator.flush(out);
    expect(windows(out)).toEqual([
      ["a", 0, 10_000, 1, 1, true],
      ["a", 5_000, 15_000, 2, 3, true],
      ["a", 10_000, 20_000, 1, 2, true],
    ]);
  });

  test("a record late for one window but not another is kept in the open one", () => {
    const operator = operatorFor({ assigner: hopping(10_000, 5_000) });
    const out = feed(operator, [
      [0, "a", 1_000, 1],
      [0, "a", 10_000, 2],
      [0, "a", 8_000, 4],
    ]);
    expect(out.late).toEqual([]);
    operator.flush(out);
    expect(windows(out)).toEqual([
      ["a", -5_000, 5_000, 1, 1, true],
      ["a", 0, 10_000, 1, 1, true],
      ["a", 5_000, 15_000, 2, 6, true],
      ["a", 10_000, 20_000, 1, 2, true],
    ]);
  });

  test("records in any order land in the same windows as in order (the key's window search resumes, then falls back)", () => {
    const rows: Row[] = [];
    for (let i = 0; i < 40; i++) rows.push([0, "a", i * 1_700, i]);
    // reversed and interleaved: older windows are opened after newer ones, so the key's
    // window list is not in start order
    const shuffled = [...rows.filter((_, i) => i % 2 === 1).reverse(), ...rows.filter((_, i) => i % 2 === 0)];
    const closedAtEnd = (input: Row[]) => {
      const operator = operatorFor({
        assigner: hopping(10_000, 2_500),
        watermark: { maxOutOfOrdernessMs: 100_000 },
      });
      const out = feed(operator, input);
      operator.flush(out);
      return windows(out).sort((a, b) => a[1] - b[1]);
    };
    expect(closedAtEnd(shuffled)).toEqual(closedAtEnd(rows));
    expect(closedAtEnd(rows)).toHaveLength(Math.floor((39 * 1_700) / 2_500) + 4);
  });
});

describe("emit modes", () => {
  const rows: Row[] = [
    [0, "a", 1_000, 1],
    [0, "a", 2_000, 2],
    [0, "a", 10_000, 4],
  ];

  test("final emits each window once when it closes", () => {
    const out = feed(operatorFor({ assigner: tumbling(10_000), emit: "final" }), rows);
    expect(windows(out)).toEqual([["a", 0, 10_000, 2, 3, true]]);
  });

  test("on-update emits the current aggregate on every record, then the final one at close", () => {
    const out = feed(operatorFor({ assigner: tumbling(10_000), emit: "on-update" }), rows);
    expect(windows(out)).toEqual([
      ["a", 0, 10_000, 1, 1, false],
      ["a", 0, 10_000, 2, 3, false],
      ["a", 0, 10_000, 2, 3, true],
      ["a", 10_000, 20_000, 1, 4, false],
    ]);
  });

  test("emittedAt is the processing clock", () => {
    const clock = testClock(50_000);
    const operator = operatorFor({ assigner: tumbling(10_000), emit: "on-update" }, clock);
    const out = feed(operator, [[0, "a", 1_000, 1]]);
    expect(out.emitted[0]!.emittedAt).toBe(50_000);
  });
});

describe("bad input is rejected and never moves the watermark", () => {
  const cases: [string, number, Record<string, number> | Float64Array, string][] = [
    ["a NaN timestamp", Number.NaN, { v: 1 }, "timestamp not finite"],
    ["an infinite timestamp", Number.POSITIVE_INFINITY, { v: 1 }, "timestamp not finite"],
    ["a timestamp before the epoch", -1, { v: 1 }, "timestamp before epoch"],
    [
      "a timestamp more than maxFutureMs ahead",
      1_000_000 + 3_600_001,
      { v: 1 },
      "timestamp too far in the future",
    ],
    ["a NaN value", 5_000, { v: Number.NaN }, "value not finite"],
    [
      "an infinite value in a Float64Array",
      5_000,
      new Float64Array([Number.NEGATIVE_INFINITY]),
      "value not finite",
    ],
    ["a missing field", 5_000, {}, "value missing"],
  ];
  for (const [name, eventTime, values, reason] of cases) {
    test(`${name} is rejected with "${reason}"`, () => {
      const operator = operatorFor({ assigner: tumbling(10_000) });
      const out = createWindowOutput();
      operator.process(0, "a", 1_000, { v: 1 }, out);
      operator.process(0, "a", eventTime, values, out);
      expect(out.rejected.map((r) => r.reason)).toEqual([reason as (typeof out.rejected)[number]["reason"]]);
      expect(operator.stats().watermark).toBe(1_000);
      expect(operator.stats().rejected).toBe(1);
      operator.flush(out);
      expect(windows(out)).toEqual([["a", 0, 10_000, 1, 1, true]]);
    });
  }

  test("a timestamp exactly maxFutureMs ahead is accepted", () => {
    const operator = operatorFor({ assigner: tumbling(10_000), maxFutureMs: 1_000 });
    const out = feed(operator, [[0, "a", 1_001_000, 1]]);
    expect(out.rejected).toEqual([]);
  });

  test("an invalid partition is a PlatformError, not a crash", () => {
    const operator = operatorFor({ assigner: tumbling(10_000) });
    expect(() => operator.process(-1, "a", 1, { v: 1 }, createWindowOutput())).toThrow();
    try {
      operator.process(1.5, "a", 1, { v: 1 }, createWindowOutput());
    } catch (error) {
      expect(isPlatformError(error, "LOG_PARTITION_INVALID")).toBe(true);
    }
  });
});

describe("aggregations", () => {
  test("several named fields are aggregated at once, from objects or Float64Arrays", () => {
    const operator = createWindowOperator({
      assigner: tumbling(60_000),
      aggregators: {
        vehicle_count: ["count", "sum", "min", "max"],
        avg_speed: ["mean", "variance", "stddev", { quantiles: [0.5] }],
      },
      clock: () => 1_000_000,
    });
    const out = createWindowOutput();
    operator.process(0, "s1", 1_000, { vehicle_count: 10, avg_speed: 40 }, out);
    operator.process(0, "s1", 2_000, new Float64Array([20, 50]), out);
    operator.process(0, "s1", 3_000, { vehicle_count: 30, avg_speed: 60 }, out);
    operator.flush(out);
    expect(out.emitted[0]!.aggregates).toEqual({
      vehicle_count: { count: 3, sum: 60, min: 10, max: 30 },
      avg_speed: { mean: 50, variance: 100, stddev: 10, p50: 50 },
    });
  });

  test("a custom aggregator is called through the Aggregator interface", () => {
    const lastValue = {
      create: () => ({ value: Number.NaN, at: 0 }),
      add: (acc: { value: number; at: number }, value: number) => ({ value, at: acc.at + 1 }),
      merge: (into: { value: number; at: number }, other: { value: number; at: number }) =>
        other.at > 0 ? other : into,
      result: (acc: { value: number; at: number }) => acc.value,
    };
    const operator = createWindowOperator({
      assigner: tumbling(60_000),
      aggregators: { v: ["count", { name: "last", aggregator: lastValue }] },
      clock: () => 1_000_000,
    });
    const out = feed(operator, [
      [0, "a", 1, 3],
      [0, "a", 2, 7],
    ]);
    operator.flush(out);
    expect(out.emitted[0]!.aggregates).toEqual({ v: { count: 2, last: 7 } });
  });

  test("an aggregation config with no fields or a bad quantile is refused", () => {
    const make = (aggregators: Parameters<typeof createWindowOperator>[0]["aggregators"]) => () =>
      createWindowOperator({ assigner: tumbling(1_000), aggregators });
    expect(make({})).toThrow("CONFIG_INVALID");
    expect(make({ v: [{ quantiles: [1.5] }] })).toThrow("CONFIG_INVALID");
    expect(make({ v: ["sum", "sum"] })).toThrow("CONFIG_INVALID");
  });
});

describe("processing time", () => {
  test("the clock stamps records and advancing it closes windows", () => {
    const clock = testClock(1_000);
    const operator = operatorFor({ assigner: tumbling(10_000), timeDomain: "processing" }, clock);
    const out = feed(operator, [[0, "a", 0, 1]]);
    clock.now = 9_000;
    feed(operator, [[0, "a", 123_456_789, 2]], out);
    expect(out.emitted).toEqual([]);
    clock.now = 10_000;
    operator.advanceProcessingTime(clock.now, out);
    expect(windows(out)).toEqual([["a", 0, 10_000, 2, 3, true]]);
  });
});

describe("interned keys", () => {
  test("processInterned with an id from internKey gives the same windows as process", () => {
    const rows: Row[] = [
      [0, "a", 1_000, 1],
      [0, "b", 2_000, 2],
      [0, "a", 11_000, 4],
    ];
    const byKey = operatorFor({ assigner: tumbling(10_000) });
    const byId = operatorFor({ assigner: tumbling(10_000) });
    const a = feed(byKey, rows);
    const b = createWindowOutput();
    for (const [partition, key, eventTime, v] of rows) {
      byId.processInterned(partition, byId.internKey(key), eventTime, { v }, b);
    }
    byKey.flush(a);
    byId.flush(b);
    expect(b.emitted).toEqual(a.emitted);
    expect(byId.internKey("a")).toBe(byId.internKey("a"));
  });

  // the partition windows mark a sensor's changelog entry changed by these ids, per final
  test.each<[string, boolean, "partition" | "key"]>([
    ["updates per record, partition stream time", false, "partition"],
    ["updates through the record cache, partition stream time", true, "partition"],
    ["updates per record, per-key stream time", false, "key"],
    ["updates through the record cache, per-key stream time", true, "key"],
  ])("%s: each emitted result carries the id internKey gives its key", (_name, cacheUpdates, streamTime) => {
    const operator = createWindowOperator({
      assigner: hopping(10_000, 5_000),
      aggregators: { v: ["sum"] },
      emit: "on-update",
      cacheUpdates,
      watermark: { streamTime },
      clock: testClock().read,
    });
    const out = createWindowOutput();
    const seen: [string, number, boolean][] = [];
    const take = () => {
      expect(out.emittedKeyIds.length).toBe(out.emitted.length);
      for (const [i, result] of out.emitted.entries())
        seen.push([result.key, out.emittedKeyIds[i]!, result.final]);
      clearWindowOutput(out);
      expect(out.emittedKeyIds).toEqual([]);
    };
    // keys interned out of name order; "c" closes its own windows on its own records
    for (const [key, eventTime] of [
      ["c", 1_000],
      ["a", 2_000],
      ["b", 3_000],
      ["c", 31_000],
      ["a", 4_000],
    ] as const) {
      operator.process(0, key, eventTime, { v: 1 }, out);
      take();
    }
    operator.flushUpdates(out);
    take();
    operator.advanceWatermark(20_000, out); // closes windows of every key
    take();
    operator.flush(out);
    take();
    expect(seen.some(([, , final]) => final)).toBe(true);
    expect(seen.some(([, , final]) => !final)).toBe(true);
    expect(new Set(seen.map(([key]) => key))).toEqual(new Set(["a", "b", "c"]));
    for (const [key, keyId] of seen) expect(keyId).toBe(operator.internKey(key));
  });

  test("an id that internKey did not return is an OUT_OF_RANGE PlatformError", () => {
    const operator = operatorFor({ assigner: tumbling(10_000) });
    expect(() => operator.processInterned(0, 7, 1_000, { v: 1 }, createWindowOutput())).toThrow(
      "OUT_OF_RANGE",
    );
  });
});

describe("batches of records", () => {
  // rows: [key, eventTime, v]; NaN and a time before the epoch are rejected, 500 is late
  const cases: { name: string; emit: "final" | "on-update"; rows: [string, number, number][] }[] = [
    {
      name: "many keys, windows closing inside the batch",
      emit: "final",
      rows: Array.from({ length: 300 }, (_, i) => [`k${(i * 37) % 101}`, 1_000 + i * 150, i % 13]),
    },
    {
      name: "rejected and late records among good ones, updates on",
      emit: "on-update",
      rows: [
        ["a", 1_000, 1],
        ["b", 12_000, 2],
        ["a", 2_000, Number.NaN],
        ["c", -5, 3],
        ["a", 500, 4],
        ["b", 13_000, 5],
        ["a", 25_000, 6],
      ],
    },
  ];
  for (const { name, emit, rows } of cases) {
    test(`processBatch gives what process gives record by record: ${name}`, () => {
      const clockA = testClock();
      const clockB = testClock();
      const oneByOne = operatorFor({ assigner: hopping(10_000, 5_000), emit }, clockA);
      const batched = operatorFor({ assigner: hopping(10_000, 5_000), emit }, clockB);
      const a = createWindowOutput();
      for (const [key, eventTime, v] of rows) oneByOne.process(2, key, eventTime, { v }, a);
      const b = createWindowOutput();
      // uneven batches, so groups of interned keys straddle the batch ends
      for (let at = 0; at < rows.length; at += 97) {
        const slice = rows.slice(at, at + 97);
        batched.processBatch(
          2,
          slice.map(([key]) => key),
          Float64Array.from(slice, ([, eventTime]) => eventTime),
          Float64Array.from(slice, ([, , v]) => v),
          b,
        );
      }
      oneByOne.flush(a);
      batched.flush(b);
      expect(b.emitted).toEqual(a.emitted);
      expect(b.late).toEqual(a.late);
      expect(b.rejected).toEqual(a.rejected);
      expect(batched.stats()).toEqual(oneByOne.stats());
      expect(a.emitted.length).toBeGreaterThan(2);
    });
  }

  test("a batch whose times or values do not match its keys is an OUT_OF_RANGE PlatformError", () => {
    const operator = operatorFor({ assigner: tumbling(10_000) });
    const out = createWindowOutput();
    expect(() => operator.processBatch(0, ["a", "b"], [1_000], Float64Array.of(1, 2), out)).toThrow(
      "OUT_OF_RANGE",
    );
    expect(() => operator.processBatch(0, ["a"], [1_000], Float64Array.of(1, 2), out)).toThrow(
      "OUT_OF_RANGE",
    );
    expect(() => operator.processBatch(-1, ["a"], [1_000], Float64Array.of(1), out)).toThrow(
      "LOG_PARTITION_INVALID",
    );
    expect(operator.stats().processed).toBe(0);
  });
});

/**
 * A partition's window actor restores each sensor's changelog bytes straight into its operator
 * (`restoreKeyBytes`, issue 7 §4: 83k sensors a partition at 1M keys). It must leave exactly the
 * state the path before it left, the bytes restored into an operator of the key's own and its
 * `snapshot()` handed to `restoreKey`, and behave the same afterwards.
 */
describe("window operator: a key's bytes restored straight into a per-key stream time operator", () => {
  const T0 = 1_700_000_000_000;
  type Aggregators = Parameters<typeof createWindowOperator>[0]["aggregators"];
  const configOf = (assigner: WindowAssigner, aggregators: Aggregators) => ({
    assigner,
    aggregators,
    watermark: { maxOutOfOrdernessMs: 1_000 },
    graceMs: 500,
    emit: "on-update" as const,
    clock: () => T0 + 60_000,
  });
  const keyed = (config: ReturnType<typeof configOf>) =>
    createWindowOperator({ ...config, watermark: { ...config.watermark, streamTime: "key" } });
  const KEYS = ["k0", "k1", "k2", "k3"];

  /** a partition operator after interleaved readings of four keys, some late, some windows closed */
  function writer(config: ReturnType<typeof configOf>): WindowOperator {
    const operator = keyed(config);
    const out = createWindowOutput();
    for (let i = 0; i < 40; i++)
      operator.process(3, KEYS[i % 4]!, T0 + i * 700 - (i % 3) * 900, { v: i % 7, w: i * 0.5 }, out);
    operator.advanceWatermark(T0 + 9_000, out);
    return operator;
  }

  /** format 0x01 of the same state: the 32-bit config hash at 4 and no fingerprint (88..104) */
  function toFormat1(bytes: Uint8Array, assigner: WindowAssigner, fields: readonly string[]): Uint8Array {
    const text = JSON.stringify([assigner, fields]);
    let hash = 0x811c9dc5;
    for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
    const old = new Uint8Array(bytes.length - 16);
    old.set(bytes.subarray(0, 88));
    old.set(bytes.subarray(104), 88);
    old[0] = 0x01;
    new DataView(old.buffer).setUint32(4, hash, true);
    return old;
  }

  /** what each key's changelog entry is, in each form a changelog holds */
  const sources = {
    "format 0x02 from the partition operator": (shared: WindowOperator, key: string) =>
      shared.snapshotKeyBytes(key, 41, 3)!,
    "format 0x02 from an operator of the key's own (a per-sensor actor's changelog)": (
      shared: WindowOperator,
      key: string,
      config: ReturnType<typeof configOf>,
    ) => {
      const own = createWindowOperator(config);
      own.restore(shared.snapshotKey(key)!);
      return own.snapshotBytes(41);
    },
    "format 0x01": (shared: WindowOperator, key: string, config: ReturnType<typeof configOf>) =>
      toFormat1(shared.snapshotKeyBytes(key, 41, 3)!, config.assigner, Object.keys(config.aggregators)),
  };
  const shapes: [string, WindowAssigner, Aggregators][] = [
    ["tumbling, moments", tumbling(10_000), { v: ["count", "sum", "min", "max"], w: ["mean"] }],
    ["hopping, t-digest", hopping(20_000, 5_000), { v: ["count", { quantiles: [0.5, 0.9] }], w: ["max"] }],
    ["session", session(2_000), { v: ["count", "sum"], w: ["min"] }],
    ["sliding, its record buffer", sliding(10_000), { v: ["count", "sum"], w: ["mean"] }],
  ];
  const cases = shapes.flatMap(([shape, assigner, aggregators]) =>
    Object.entries(sources).map(
      ([source, bytesOf]) => [`${shape}, ${source}`, assigner, aggregators, bytesOf] as const,
    ),
  );

  test.each(cases)(
    "%s: the same state and the same output as through an operator of its own",
    (_name, assigner, aggregators, bytesOf) => {
      const config = configOf(assigner, aggregators);
      const shared = writer(config);
      // both targets already hold a key with open windows of their own
      const before = keyed(config);
      const direct = keyed(config);
      const out = createWindowOutput();
      for (const target of [before, direct]) target.process(3, "other", T0 + 2_500, { v: 1, w: 2 }, out);
      clearWindowOutput(out);
      const scratch = createWindowOperator(config);
      for (const key of KEYS) {
        const bytes = bytesOf(shared, key, config);
        scratch.restore(bytes);
        before.restoreKey(key, scratch.snapshot());
        expect(direct.restoreKeyBytes(key, bytes)).toBe(41);
      }
      expect(before.snapshot().windows.length).toBeGreaterThan(1);
      expect(direct.snapshot()).toEqual(before.snapshot());
      for (const key of KEYS) expect(direct.snapshotKey(key)).toEqual(before.snapshotKey(key));
      // and they go on alike: late and on-time readings, the node's watermark, the end
      const outputs = [before, direct].map((target) => {
        const seen: unknown[] = [];
        for (let i = 0; i < 12; i++)
          target.process(3, KEYS[i % 4]!, T0 + 27_000 + i * 1_100 - (i % 4) * 4_000, { v: i, w: i }, out);
        target.advanceWatermark(T0 + 45_000, out);
        target.flush(out);
        seen.push(structuredClone(out.emitted), structuredClone(out.late));
        clearWindowOutput(out);
        return seen;
      });
      expect(outputs[1]).toEqual(outputs[0]!);
    },
  );

  const config = configOf(tumbling(10_000), { v: ["count", "sum"], w: ["mean"] });
  const refusals: [string, () => Uint8Array, string][] = [
    ["cut short", () => writer(config).snapshotKeyBytes("k1", 41, 3)!.subarray(0, 150), "DECODE_FAILED"],
    ["not a snapshot", () => new TextEncoder().encode('{"windows":[]}'), "DECODE_FAILED"],
    [
      "taken under another window size",
      () => writer(configOf(tumbling(20_000), config.aggregators)).snapshotKeyBytes("k1", 41, 3)!,
      "CONFIG_INVALID",
    ],
    [
      "taken with another field list",
      () => writer(configOf(tumbling(10_000), { v: ["count"] })).snapshotKeyBytes("k1", 41, 3)!,
      "CONFIG_INVALID",
    ],
    ["holding windows of another key", () => writer(config).snapshotBytes(41), "DECODE_FAILED"],
  ];
  test.each(refusals)("refuses bytes %s as the path before did, and adds nothing", (_name, bytesOf, code) => {
    const bytes = bytesOf();
    const scratch = createWindowOperator(config);
    const before = keyed(config);
    expect(() => {
      scratch.restore(bytes);
      before.restoreKey("k1", scratch.snapshot());
    }).toThrow(code);
    const direct = keyed(config);
    const out = createWindowOutput();
    direct.process(3, "other", T0 + 2_500, { v: 1, w: 2 }, out);
    const state = direct.snapshot();
    expect(() => direct.restoreKeyBytes("k1", bytes)).toThrow(code);
    expect(direct.snapshot()).toEqual(state);
    expect(direct.keyIdOf("k1")).toBeUndefined();
  });

  // states up to 64 KiB are read from a copy in a reused buffer, longer ones in place
  test.each([
    ["a few hundred bytes", 20],
    ["past 64 KiB", 1_000],
  ])("a key's state of %s restores as through an operator of its own", (_name, records) => {
    // a window per record, none closed: 120 bytes each
    const large = {
      ...configOf(tumbling(10), { v: ["count", "sum"], w: ["mean"] }),
      watermark: { maxOutOfOrdernessMs: 3_600_000 },
    };
    const shared = keyed(large);
    const out = createWindowOutput();
    for (let i = 0; i < records; i++) shared.process(3, "k0", T0 + i * 10, { v: i, w: i / 2 }, out);
    const bytes = shared.snapshotKeyBytes("k0", 7, 3)!;
    expect(bytes.length > 1 << 16).toBe(records > 100);
    const scratch = createWindowOperator(large);
    scratch.restore(bytes);
    const before = keyed(large);
    before.restoreKey("k0", scratch.snapshot());
    const direct = keyed(large);
    expect(direct.restoreKeyBytes("k0", bytes)).toBe(7);
    // and a small one after it, read from the copy
    const small = writer(large).snapshotKeyBytes("k1", 9, 3)!;
    scratch.restore(small);
    before.restoreKey("k1", scratch.snapshot());
    expect(direct.restoreKeyBytes("k1", small)).toBe(9);
    expect(direct.snapshot()).toEqual(before.snapshot());
  });

  test("refuses a key that already has open windows, and needs per-key stream time", () => {
    const bytes = writer(config).snapshotKeyBytes("k1", 41, 3)!;
    const direct = keyed(config);
    direct.process(3, "k1", T0 + 1_000, { v: 1, w: 1 }, createWindowOutput());
    expect(() => direct.restoreKeyBytes("k1", bytes)).toThrow("CONFIG_INVALID");
    expect(() => createWindowOperator(config).restoreKeyBytes("k1", bytes)).toThrow("CONFIG_INVALID");
  });
});
