/**
 * Adds past a full window of recent ids: the bounded map (`messages/bounded-map.ts`) beside the
 * pattern it replaced, a Map or Set that deletes its first entry on every add once full
 * (`map.delete(map.keys().next().value)`), and beside a ring of ids next to a Set (the lake's
 * first fix). Each shape runs CAPACITY ids to fill, then ADDS new ids, each forgetting the
 * oldest; the LRU shape renews one held id per new one (delete + set on the Map, `setNewest`
 * here), as the read models and caches do. Medians of RUNS interleaved; the load average is
 * printed because the machine is shared.
 *
 *   bun bench/bounded-map.ts     # CAPACITY=50000 ADDS=100000 RUNS=3
 */
import { loadavg } from "node:os";
import { BoundedMap, BoundedSet } from "../messages/bounded-map.ts";
import { median, printFigure } from "./support.ts";

const CAPACITY = Number(process.env.CAPACITY ?? 50_000);
const ADDS = Number(process.env.ADDS ?? 100_000);
const RUNS = Number(process.env.RUNS ?? 3);

/** the old pattern: a Set bounded by deleting its first entry */
function firstEntrySet(): number {
  const ids = new Set<string>();
  for (let k = 0; k < CAPACITY + ADDS; k++) {
    ids.add(`3@${k}`);
    if (ids.size > CAPACITY) ids.delete(ids.values().next().value as string);
  }
  return ids.size;
}

/** the lake's first fix: the order of arrival in a ring beside the Set */
function ringBesideSet(): number {
  const ids = new Set<string>();
  const order: string[] = [];
  let oldest = 0;
  for (let k = 0; k < CAPACITY + ADDS; k++) {
    const id = `3@${k}`;
    if (ids.has(id)) continue;
    ids.add(id);
    if (order.length < CAPACITY) {
      order.push(id);
      continue;
    }
    ids.delete(order[oldest] as string);
    order[oldest] = id;
    oldest = (oldest + 1) % CAPACITY;
  }
  return ids.size;
}

function boundedSet(): number {
  const ids = new BoundedSet<string>(CAPACITY);
  for (let k = 0; k < CAPACITY + ADDS; k++) ids.add(`3@${k}`);
  return ids.size;
}

/** the old LRU: delete + set renews, the first entry goes */
function firstEntryLru(): number {
  const entries = new Map<string, number>();
  for (let k = 0; k < CAPACITY + ADDS; k++) {
    const key = `3@${k}`;
    entries.delete(key);
    entries.set(key, k);
    if (entries.size > CAPACITY) entries.delete(entries.keys().next().value as string);
    // a use of a held key renews it
    const used = `3@${k - (k % 7) - 1}`;
    const value = entries.get(used);
    if (value !== undefined) {
      entries.delete(used);
      entries.set(used, value);
    }
  }
  return entries.size;
}

function boundedLru(): number {
  const entries = new BoundedMap<string, number>(CAPACITY);
  for (let k = 0; k < CAPACITY + ADDS; k++) {
    entries.setNewest(`3@${k}`, k);
    entries.touch(`3@${k - (k % 7) - 1}`);
  }
  return entries.size;
}

const shapes = { firstEntrySet, ringBesideSet, boundedSet, firstEntryLru, boundedLru };
const timings: Record<string, number[]> = Object.fromEntries(Object.keys(shapes).map((name) => [name, []]));
for (let run = 0; run < RUNS; run++) {
  for (const [name, shape] of Object.entries(shapes)) {
    Bun.gc(true);
    const started = performance.now();
    const size = shape();
    const ms = performance.now() - started;
    if (size !== CAPACITY) throw new Error(`${name} held ${size} ids, not ${CAPACITY}`);
    timings[name]!.push(ms);
  }
}

const perThousand = (name: string) => (median(timings[name]!) / (CAPACITY + ADDS)) * 1000;
const load = loadavg()[0]!.toFixed(1);
printFigure({
  name: `bounded set: ${ADDS} ids past a full window of ${CAPACITY}`,
  value: perThousand("boundedSet"),
  unit: "ms per 1,000 adds",
  baseline: "Set deleting its first entry per add",
  baseline_value: perThousand("firstEntrySet"),
  ring_beside_set: perThousand("ringBesideSet"),
  runs: RUNS,
  load,
});
printFigure({
  name: `bounded LRU map: ${ADDS} keys past ${CAPACITY}, one renewal per add`,
  value: perThousand("boundedLru"),
  unit: "ms per 1,000 adds",
  baseline: "Map delete + set, deleting its first entry per add",
  baseline_value: perThousand("firstEntryLru"),
  runs: RUNS,
  load,
});
