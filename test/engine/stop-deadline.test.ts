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
