import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Browser } from "playwright-core";
import type { DashboardSummary } from "../../../api/dashboard/dashboard-summary.ts";
import type { RunningNode } from "../../../node/start-node.ts";
import { launchChromium } from "../../../testkit/chromium.ts";
import { startTestNode } from "../../node/node-fixture.ts";

/**
 * The targets, measured and reported, not asserted (the machine is shared): the
 * analytics page (the busiest: every window update of every sensor arrives over /ws) open in
 * Chromium while the node's simulator publishes 20,000 readings/s. Printed: the readings/s the
 * node really ingested, the window updates/s the page took in, what the node dropped for it,
 * and how far behind the page drew them (the node's emission to the page's frame, p50/p99).
 */
const RATE = 20_000;
const MEASURE_MS = 10_000;

let node: RunningNode;
let cleanup: () => Promise<void>;
let browser: Browser;

beforeAll(async () => {
  // 50 readings/s per sensor at most, so each sensor's readings keep distinct timestamps
  ({ node, cleanup } = await startTestNode({
    simulate: true,
    rate: RATE,
    sensorsPerType: Math.ceil(RATE / 50 / 3),
    workers: 2,
    windowMs: 5000,
  }));
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await cleanup?.();
});

interface Stats {
  firstPaintMs: number | null;
  firstDataMs: number | null;
  feedMessages: number;
  feedDropped: number;
  frames: number;
  feedLagMs: number[];
}

const summary = async () =>
  (await (await fetch(`${node.apiUrl}/api/dashboard/summary`)).json()) as DashboardSummary;

test(`the analytics page under ${RATE} readings/s: update lag and drops, reported`, async () => {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
  await page.goto(`${node.apiUrl}/dashboard/analytics`, { waitUntil: "load" });
  const read = () => page.evaluate(() => (globalThis as unknown as { dashboardStats: Stats }).dashboardStats);
  await page.waitForFunction(
    () => (globalThis as unknown as { dashboardStats: Stats }).dashboardStats.feedMessages > 0,
    undefined,
    {
      timeout: 30_000,
    },
  );
  const [before, nodeBefore, startedAt] = [await read(), await summary(), Date.now()];
  await page.waitForTimeout(MEASURE_MS);
  const [after, nodeAfter] = [await read(), await summary()];
  const seconds = (Date.now() - startedAt) / 1000;
  const lags = after.feedLagMs.slice(
    -Math.min(after.feedLagMs.length, after.feedMessages - before.feedMessages),
  );
  const sorted = [...lags].sort((a, b) => a - b);
  const at = (q: number) =>
    sorted.length ? Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!) : null;
  const figures = {
    name: "dashboard-live-updates",
    target_readings_per_s: RATE,
    ingested_readings_per_s: Math.round((nodeAfter.totals.appended - nodeBefore.totals.appended) / seconds),
    page_updates_per_s: Math.round((after.feedMessages - before.feedMessages) / seconds),
    dropped_for_page_per_s: Math.round((after.feedDropped - before.feedDropped) / seconds),
    frames_per_s: Math.round((after.frames - before.frames) / seconds),
    update_lag_p50_ms: at(0.5),
    update_lag_p99_ms: at(0.99),
    first_paint_ms: Math.round(after.firstPaintMs ?? -1),
    first_data_ms: Math.round(after.firstDataMs ?? -1),
  };
  console.log(JSON.stringify(figures));
  expect(figures.page_updates_per_s).toBeGreaterThan(0);
  await page.close();
}, 120_000);
