import { expect, test } from "bun:test";
import type { ModelEvent } from "../../../actors/model-shard/model-events.ts";
import { firstTraining } from "../../../actors/retrain/first-training.ts";
import type { FeatureStore } from "../../../features/feature-store.ts";

/**
 * A model's first version on an empty registry: the node waits for labelled rows in the offline
 * store, trains once, and says "no champion yet" (and why) until then.
 */
function bench(options: { store?: boolean; rows: number; served?: boolean; idle?: boolean }) {
  const events: ModelEvent[] = [];
  const triggers: string[] = [];
  let counts = 0;
  let served = options.served ?? false;
  const first = firstTraining({
    model: "m",
    store: options.store === false ? undefined : ({} as FeatureStore),
    minRows: 100,
    count: async () => {
      counts++;
      return options.rows;
    },
    served: () => served,
    idle: () => options.idle ?? triggers.length === 0,
    trigger: (reason) => {
      triggers.push(reason);
      return true;
    },
    onEvent: (event) => events.push(event),
    onError: (error) => {
      throw error;
    },
    now: () => 0,
  });
  return { first, events, triggers, counts: () => counts, serve: () => (served = true) };
}

test.each([
  ["the feature store is off", { store: false, rows: 1000 }, 0, /feature store is off/],
  ["too few labelled rows", { rows: 99 }, 0, /holds 100 labelled rows \(99 now\)/],
  ["enough labelled rows", { rows: 100 }, 1, /the first version is training/],
  ["a loop already busy (an operator's retrain)", { rows: 1000, idle: false }, 0, /is training/],
])(
  "%s: %i first trainings, and the status says why there is no champion",
  async (_n, options, trained, why) => {
    const b = bench(options);
    await b.first.check();
    await b.first.check();
    expect(b.triggers).toHaveLength(trained);
    expect(b.first.status()).toMatch(/^no champion yet: /);
    expect(b.first.status()).toMatch(why);
    expect(b.first.health.check(0)).toEqual({ ok: true, reason: b.first.status() });
    // one feed event per phase, not one per look
    expect(b.events.map((e) => e.type)).toEqual(["no-champion"]);
  },
);

test("a served model has no status, looks at nothing and says nothing", async () => {
  const b = bench({ rows: 1000, served: true });
  await b.first.check();
  expect(b.first.status()).toBeUndefined();
  expect(b.first.health.check(0)).toEqual({ ok: true });
  expect(b.counts()).toBe(0);
  expect(b.events).toEqual([]);
});

test("the status clears the moment the first version serves, before the next look", async () => {
  const b = bench({ rows: 100 });
  await b.first.check();
  expect(b.first.status()).toBeDefined();
  b.serve();
  expect(b.first.status()).toBeUndefined();
  expect(b.first.health.check(0)).toEqual({ ok: true });
});

test("looks do not overlap: a second look while one counts is skipped", async () => {
  const b = bench({ rows: 100 });
  await Promise.all([b.first.check(), b.first.check(), b.first.check()]);
  expect(b.counts()).toBe(1);
  expect(b.triggers).toHaveLength(1);
});
