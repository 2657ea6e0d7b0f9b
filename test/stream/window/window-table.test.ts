import { describe, expect, test } from "bun:test";
import { compileAggregations } from "../../../stream/aggregate/aggregation-plan.ts";
import type { AggregatorSpec, MomentStatistic } from "../../../stream/aggregate/aggregator.ts";
import { momentStatistic } from "../../../stream/aggregate/moments.ts";
import { WindowTable } from "../../../stream/window/window-table.ts";

/**
 * Tables of moment statistics only share one empty objects array (no per-table array at 100k
 * sensors); a table with a t-digest keeps its own. Windows of tables side by side never see each
 * other's state, whichever kind they are.
 */
describe("window table", () => {
  test("tables with and without object aggregators, used in turn and grown, keep their own windows", () => {
    const moments = () => new WindowTable(compileAggregations({ speed: ["count", "sum", "max"] }), 1);
    const digest = () => new WindowTable(compileAggregations({ speed: ["sum", { quantiles: [0.5] }] }), 1);
    const tables = [moments(), digest(), moments(), digest()];
    for (const table of tables) table.ensureKeys(1);
    const slots = tables.map(() => [] as number[]);
    // three windows each (past the first capacity of 1), values differing per table
    for (let w = 0; w < 3; w++)
      tables.forEach((table, t) => {
        const slot = table.allocate(0, w * 60_000, (w + 1) * 60_000, w);
        slots[t]!.push(slot);
        for (const value of [t + 1, 10 * (t + 1)]) table.add(slot, [value + w], 0);
      });
    tables.forEach((table, t) => {
      slots[t]!.forEach((slot, w) => {
        const speed = table.aggregates(slot).speed!;
        expect(speed.sum).toBe(11 * (t + 1) + 2 * w);
        if (t % 2 === 1) expect(speed.p50).toBeGreaterThanOrEqual(t + 1 + w);
        else expect(speed.max).toBe(10 * (t + 1) + w);
      });
    });
    // a released window of one table leaves the same slot of the others as it was
    tables[0]!.release(slots[0]![1]!);
    tables[1]!.release(slots[1]![1]!);
    expect(tables[2]!.aggregates(slots[2]![1]!).speed!.sum).toBe(33 + 2);
    expect(tables[3]!.aggregates(slots[3]![1]!).speed!.p50).toBeGreaterThanOrEqual(5);
  });

  // A field asking for exactly count, sum, mean, min, max (every sensor window) gets them built
  // as one literal; every other list statistic by statistic. Both must give what
  // momentStatistic gives, in the order asked (the order JSON output and golden files keep).
  const summary = ["count", "sum", "mean", "min", "max"] as const;
  test.each<[string, readonly AggregatorSpec[], readonly number[]]>([
    ["the summary, empty window", summary, []],
    ["the summary, one value", summary, [7.5]],
    ["the summary, several values", summary, [3, -2, 11.25, 0]],
    ["the summary in another order", ["max", "min", "mean", "sum", "count"], [3, 4]],
    ["part of the summary", ["count", "sum", "max"], [3, 4]],
    ["the summary and variance", [...summary, "variance"], [3, 4, 8]],
    ["the summary and a quantile", [...summary, { quantiles: [0.5] }], [3, 4, 8]],
  ])("%s: each statistic as momentStatistic gives it, in the order asked", (_name, specs, values) => {
    const table = new WindowTable(compileAggregations({ speed: specs, flow: summary }), 4);
    table.ensureKeys(1);
    const slot = table.allocate(0, 0, 60_000, 0);
    for (const value of values) table.add(slot, [value, value * 2], 0);
    const aggregates = table.aggregates(slot);
    const moments = (xs: readonly number[]) => {
      const n = xs.length;
      const mean = n === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / n;
      const m2 = xs.reduce((a, x) => a + (x - mean) ** 2, 0);
      const sum = xs.reduce((a, b) => a + b, 0);
      return (statistic: MomentStatistic) =>
        momentStatistic(statistic, n, mean, m2, sum, Math.min(...xs), Math.max(...xs));
    };
    const speed = moments(values);
    const wanted = specs.filter((spec): spec is MomentStatistic => typeof spec === "string");
    const got = aggregates.speed!;
    // the moment statistics first, in the order asked; a quantile after them
    expect(Object.keys(got).slice(0, wanted.length)).toEqual([...wanted]);
    for (const statistic of wanted)
      if (speed(statistic) === null) expect(got[statistic]).toBeNull();
      else expect(got[statistic]).toBeCloseTo(speed(statistic)!, 9);
    const flow = moments(values.map((value) => value * 2));
    expect(Object.keys(aggregates.flow!)).toEqual([...summary]);
    for (const statistic of summary)
      if (flow(statistic) === null) expect(aggregates.flow![statistic]).toBeNull();
      else expect(aggregates.flow![statistic]).toBeCloseTo(flow(statistic)!, 9);
  });
});
