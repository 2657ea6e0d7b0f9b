import { expect, test } from "bun:test";
import { MarketModel } from "../../../../sources/market/simulator/market-model.ts";

// the minute data of 512 (symbol, day) pairs is cached, least recently used out first: a day
// forgotten and asked again is computed again, and it must be the same day (the walk is seeded)
test("a day's minutes forgotten past the cache's 512 days come back the same", () => {
  const model = new MarketModel({ seed: 11, hours: "always" });
  const day = (n: number) => model.session(new Date(Date.UTC(2020, 0, 1 + n)).toISOString().slice(0, 10))!;
  const first = model.minuteBars("AAPL", day(0));
  for (let n = 1; n <= 600; n++) model.minuteBars("AAPL", day(n));
  expect(model.minuteBars("AAPL", day(0))).toEqual(first);
  expect(first.length).toBe(24 * 60);
});
