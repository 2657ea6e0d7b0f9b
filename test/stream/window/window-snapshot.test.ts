import { describe, expect, test } from "bun:test";
import type { AggregatorSpec } from "../../../stream/aggregate/aggregator.ts";
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
} from "../../../stream/window/window-operator.ts";
import { createWindowOutput, type WindowOutput } from "../../../stream/window/window-output.ts";

/** A deterministic stream: 3 partitions, 20 keys, jittered event times, some late and bad records. */
function streamOf(count: number): [number, string, number, Record<string, number>][] {
  let seed = 12345;
  const next = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 4294967296;
  };
  const rows: [number, string, number, Record<string, number>][] = [];
  for (let i = 0; i < count; i++) {
    const base = 1_000_000 + i * 97;
    const jitter = next() < 0.05 ? -20_000 : Math.floor(next() * 3_000) - 1_500;
    const bad = next() < 0.01;
    rows.push([
      i % 3,
      `sensor-${Math.floor(next() * 20)}`,
      base + jitter,
      { speed: bad ? Number.NaN : Math.round(next() * 1000) / 10, count: Math.floor(next() * 50) },
    ]);
  }
  return rows;
}

const aggregators: Record<string, AggregatorSpec[]> = {
  speed: ["count", "mean", "min", "max", "variance", { quantiles: [0.5, 0.9] }],
  count: ["sum"],
};

function run(
  assigner: WindowAssigner,
  emit: EmitMode,
  rows: ReturnType<typeof streamOf>,
  snapshotAt: number | null,
): WindowOutput {
  const clock = { now: 2_000_000 };
  const make = () =>
    createWindowOperator({
      assigner,
      aggregators,
      emit,
      graceMs: 2_000,
      watermark: { maxOutOfOrdernessMs: 3_000, idleTimeoutMs: 60_000 },
      clock: () => clock.now,
    });
  let operator: WindowOperator = make();
  const out = createWindowOutput();
  rows.forEach(([partition, key, eventTime, values], i) => {
    if (i === snapshotAt) {
      const saved = JSON.parse(JSON.stringify(operator.snapshot()));
      operator = make();
      operator.restore(saved);
    }
    clock.now = 2_000_000 + i;
    operator.process(partition, key, eventTime, values, out);
    if (i % 500 === 0) operator.advanceProcessingTime(clock.now, out);
  });
  operator.flush(out);
  return out;
}

describe("snapshot and restore", () => {
  const assigners: [string, WindowAssigner][] = [
    ["tumbling", tumbling(10_000)],
    ["hopping", hopping(10_000, 2_500)],
    ["session", session(300)],
    ["sliding", sliding(2_000)],
  ];
  for (const [name, assigner] of assigners) {
    for (const emit of ["final", "on-update"] as const) {
      test(`a restored ${name} operator (${emit}) emits exactly what an uninterrupted one does`, () => {
        const rows = streamOf(3_000);
        const golden = run(assigner, emit, rows, null);
        expect(golden.emitted.length).toBeGreaterThan(10);
        expect(golden.late.length).toBeGreaterThan(0);
        expect(golden.rejected.length).toBeGreaterThan(0);
        for (const at of [1, 1_234, 2_999]) {
          const restored = run(assigner, emit, rows, at);
          expect(restored.emitted).toEqual(golden.emitted);
          expect(restored.late).toEqual(golden.late);
          expect(restored.rejected).toEqual(golden.rejected);
        }
      });
    }
  }

  test("stats survive a restore", () => {
    const operator = createWindowOperator({ assigner: tumbling(1_000), aggregators, clock: () => 5_000 });
    const out = createWindowOutput();
    operator.process(0, "a", 100, { speed: 1, count: 1 }, out);
    operator.process(0, "a", 2_500, { speed: 1, count: 1 }, out);
    operator.process(0, "a", 50, { speed: 1, count: 1 }, out);
    const copy = createWindowOperator({ assigner: tumbling(1_000), aggregators, clock: () => 5_000 });
    copy.restore(JSON.parse(JSON.stringify(operator.snapshot())));
    expect(copy.stats()).toEqual(operator.stats());
    expect(copy.stats()).toMatchObject({ openWindows: 1, late: 1, watermark: 2_500 });
  });

  test("a snapshot taken with another assigner is refused", () => {
    const a = createWindowOperator({ assigner: tumbling(1_000), aggregators });
    const b = createWindowOperator({ assigner: tumbling(2_000), aggregators });
    expect(() => b.restore(a.snapshot())).toThrow("CONFIG_INVALID");
    expect(() => b.restore({} as never)).toThrow("DECODE_FAILED");
  });
});
