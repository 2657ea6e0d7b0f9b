import { describe, expect, test } from "bun:test";
import { compileAggregations } from "../../../stream/aggregate/aggregation-plan.ts";
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
});
