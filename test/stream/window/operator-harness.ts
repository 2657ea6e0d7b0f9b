import type { WindowOperator, WindowOperatorConfig } from "../../../stream/window/window-operator.ts";
import { createWindowOperator } from "../../../stream/window/window-operator.ts";
import { createWindowOutput, type WindowOutput } from "../../../stream/window/window-output.ts";

/** A record as a test table row: [partition, key, eventTime, value]; value goes to field "v". */
export type Row = readonly [number, string, number, number];

/** A manual processing clock. */
export interface TestClock {
  now: number;
  readonly read: () => number;
}

export function testClock(now = 1_000_000): TestClock {
  const clock = { now, read: () => clock.now };
  return clock;
}

export function operatorFor(
  config: Omit<WindowOperatorConfig, "aggregators" | "clock"> & Partial<WindowOperatorConfig>,
  clock: TestClock = testClock(),
): WindowOperator {
  return createWindowOperator({ aggregators: { v: ["count", "sum"] }, clock: clock.read, ...config });
}

/** Feeds rows in order and returns everything the operator appended. */
export function feed(
  operator: WindowOperator,
  rows: readonly Row[],
  out: WindowOutput = createWindowOutput(),
) {
  for (const [partition, key, eventTime, v] of rows) operator.process(partition, key, eventTime, { v }, out);
  return out;
}

/** Emitted windows as compact tuples: [key, start, end, count, sum, final]. */
export function windows(out: WindowOutput): [string, number, number, number, unknown, boolean][] {
  return out.emitted.map((w) => [w.key, w.windowStart, w.windowEnd, w.count, w.aggregates.v?.sum, w.final]);
}
