import { expect, test } from "bun:test";
import { StopBudget } from "../../engine/stop-deadline.ts";

/** a stop's budget: work takes what is left minus the closes' reserve; closes keep a floor */
test.each([
  // total, elapsed, forWork, forClose, overrun
  [20_000, 0, 15_000, 20_000, 0],
  [20_000, 14_000, 1_000, 6_000, 0],
  [20_000, 16_000, 0, 4_000, 0],
  [20_000, 25_000, 0, 1_000, 5_000],
  [4_000, 0, 3_000, 4_000, 0],
  [4_000, 3_500, 0, 1_000, 0],
  [60_000, 0, 55_000, 60_000, 0],
])(
  "a budget of %d ms, %d ms in: work %d ms, a close %d ms, %d ms over",
  (total, elapsed, forWork, forClose, overrun) => {
    let now = 1_000;
    const budget = new StopBudget(total, () => now);
    now += elapsed;
    expect(budget.forWorkMs()).toBe(forWork);
    expect(budget.forCloseMs()).toBe(forClose);
    expect(budget.overrunMs()).toBe(overrun);
    expect(budget.remainingMs()).toBe(Math.max(0, total - elapsed));
  },
);

test("a part of a budget leaves the rest of the work time to the steps after it, with the same reserve", () => {
  let now = 0;
  const budget = new StopBudget(20_000, () => now);
  now += 3_000;
  const engine = budget.part(0.75);
  expect(engine.forWorkMs()).toBe(9_000);
  expect(engine.closeReserveMs).toBe(5_000);
  now += 9_000; // the engine took all of its part
  expect(engine.forWorkMs()).toBe(0);
  expect(budget.forWorkMs()).toBe(3_000);
});
