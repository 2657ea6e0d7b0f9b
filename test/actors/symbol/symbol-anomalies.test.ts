import { describe, expect, test } from "bun:test";
import { anomaliesOf, anomalyInit } from "../../../actors/symbol/symbol-anomalies.ts";

function warmed() {
  const state = anomalyInit();
  // a calm history of 30 bars: moves of a few basis points around 100, steady volume
  for (let i = 0; i < 30; i++)
    anomaliesOf(state, { close: 100 * (1 + 0.001 * Math.sin(i * 1.7)), volume: 1000 + (i % 3) * 10 });
  return state;
}

describe("bar anomalies", () => {
  const cases: {
    name: string;
    bar: { close: number; volume: number };
    kinds: ("price_jump" | "volume_spike")[];
  }[] = [
    { name: "a 5% jump", bar: { close: 105, volume: 1000 }, kinds: ["price_jump"] },
    { name: "a 10x volume", bar: { close: 100.1, volume: 10_000 }, kinds: ["volume_spike"] },
    { name: "both at once", bar: { close: 90, volume: 20_000 }, kinds: ["price_jump", "volume_spike"] },
    { name: "an ordinary bar", bar: { close: 100.1, volume: 1100 }, kinds: [] },
  ];
  test.each(cases)("$name is reported as $kinds", ({ bar, kinds }) => {
    expect(anomaliesOf(warmed(), bar).map((a) => a.kind)).toEqual(kinds);
  });

  test("nothing is reported before the minimum history", () => {
    const state = anomalyInit();
    for (let i = 0; i < 10; i++) anomaliesOf(state, { close: 100, volume: 1000 });
    expect(anomaliesOf(state, { close: 200, volume: 1e9 })).toEqual([]);
  });
});
