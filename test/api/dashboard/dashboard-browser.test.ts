import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import mqtt from "mqtt";
import type { Browser, Page } from "playwright-core";
import type { DashboardSummary } from "../../../api/dashboard/dashboard-summary.ts";
import type { RunningNode } from "../../../node/start-node.ts";
import { launchChromium } from "../../../testkit/chromium.ts";
import { seedTrafficChampion } from "../../../testkit/seeded-champion.ts";
import { startTestNode } from "../../node/node-fixture.ts";

/**
 * The three dashboards in a real browser (Debian's Chromium through playwright-core) against a
 * whole node with its simulator running: each page loads without a console error or a failed
 * request, every panel draws data points, the live parts move (a dead letter published while
 * the page is open appears in its table through /ws), and a screenshot of each page is kept in
 * test-output/dashboard/. First paint and update lag are measured and printed, not asserted.
 */
const OUTPUT = join(import.meta.dir, "../../../test-output/dashboard");

/** the panels that must show data on each page (the markets panel shows the news room's sentiment here) */
const PANELS = {
  operational: [
    "throughput",
    "input-lag",
    "aggregate-lag",
    "latency",
    "latency-histogram",
    "dead-letters",
    "actors",
    "restarts",
    "recent-dead-letters",
  ],
  analytics: ["city-map", "districts", "anomalies", "sensor-windows", "quality", "predictions", "markets"],
  executive: ["kpi-quality", "kpi-model", "kpi-alerts", "kpi-availability", "alerts-trend"],
} as const;
type View = keyof typeof PANELS;

interface PageStats {
  firstPaintMs: number | null;
  firstDataMs: number | null;
  summaries: number;
  summaryFailures: number;
  feedMessages: number;
  feedDropped: number;
  frames: number;
  feedLagMs: number[];
  summaryLagMs: number[];
}

let node: RunningNode;
let cleanup: () => Promise<void>;
let browser: Browser;

beforeAll(async () => {
  mkdirSync(OUTPUT, { recursive: true });
  // one-second windows: windows close, predictions and quality windows appear within seconds
  // (the registry holds a champion, as after a first training: every closed window is forecast)
  ({ node, cleanup } = await startTestNode(
    {
      simulate: true,
      rate: 300,
      windowMs: 1000,
      // the news room runs once at start: the analytics page shows its sentiment per district
      news: "on",
      newsPollMs: 3_600_000,
      models: "on",
    },
    (dir) => seedTrafficChampion(dir),
  ));
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await cleanup?.();
});

async function openView(view: View): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
  const problems: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("requestfailed", (request) => problems.push(`request failed: ${request.url()}`));
  page.on("response", (response) => {
    if (response.status() >= 400) problems.push(`${response.status()} ${response.url()}`);
  });
  const answer = await page.goto(`${node.apiUrl}/dashboard/${view}`, { waitUntil: "load" });
  expect(answer?.status()).toBe(200);
  return { page, problems };
}

/** each panel's data-points, polled until all have some or the deadline passes */
async function panelsWithData(page: Page, ids: readonly string[], atLeast = 1, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // runs in the page (the tests are type-checked without the DOM library)
    const points = await page.evaluate(
      (panelIds) => {
        const { document } = globalThis as unknown as PageGlobals;
        return Object.fromEntries(
          panelIds.map((id) => [id, Number(document.getElementById(id)?.dataset.points ?? "0")]),
        );
      },
      [...ids],
    );
    if (Object.values(points).every((n) => n >= atLeast) || Date.now() > deadline) return points;
    await page.waitForTimeout(250);
  }
}

interface PageGlobals {
  document: { getElementById(id: string): { dataset: Record<string, string | undefined> } | null };
  dashboardStats: PageStats;
}

const pageStats = (page: Page) => page.evaluate(() => (globalThis as unknown as PageGlobals).dashboardStats);

const percentile = (samples: readonly number[], q: number) => {
  if (samples.length === 0) return null;
  const sorted = [...samples].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!);
};

function report(view: View, stats: PageStats): void {
  console.log(
    `dashboard ${view}: first paint ${Math.round(stats.firstPaintMs ?? -1)} ms, first data ${Math.round(stats.firstDataMs ?? -1)} ms, ` +
      `summary lag p50 ${percentile(stats.summaryLagMs, 0.5)} ms, feed lag p50 ${percentile(stats.feedLagMs, 0.5)} / p99 ${percentile(stats.feedLagMs, 0.99)} ms, ` +
      `${stats.feedMessages} feed messages, ${stats.feedDropped} dropped`,
  );
}

async function summary(): Promise<DashboardSummary> {
  return (await (await fetch(`${node.apiUrl}/api/dashboard/summary`)).json()) as DashboardSummary;
}

describe("the dashboards in Chromium", () => {
  test("operational: every panel draws live data, and a dead letter published while it is open appears", async () => {
    const { page, problems } = await openView("operational");
    // The feed is live, not replayed: a dead letter counts for the table only once the page's
    // subscription is in place, which the page cannot tell the test. So bad input goes out
    // until one shows (the first one after the subscription does), at most 20 rounds.
    const client = await mqtt.connectAsync(node.mqttUrl);
    try {
      for (let round = 0; round < 20; round++) {
        await client.publishAsync(`city/sensors/traffic/dashboard_bad_${round}`, "{not json", { qos: 1 });
        await client.publishAsync(`city/sensors/submarine/s${round}`, "{}", { qos: 1 });
        // both codes: the two publishes of a round may fall on either side of the subscription
        const shows = (code: string) =>
          page
            .locator("#recent-dead-letters td", { hasText: code })
            .first()
            .waitFor({ timeout: 1000 })
            .then(() => true)
            .catch((error: unknown) => {
              if (error instanceof Error && error.name === "TimeoutError") return false;
              throw error;
            });
        if ((await shows("UNKNOWN_TOPIC")) && (await shows("MALFORMED_JSON"))) break;
      }
    } finally {
      await client.endAsync();
    }
    const points = await panelsWithData(page, PANELS.operational);
    for (const [id, n] of Object.entries(points))
      expect({ id, hasData: n > 0 }).toEqual({ id, hasData: true });

    // the bars follow the node: one per input partition, the dead letters by their codes
    expect(points["input-lag"]).toBe(node.config.partitions);
    const table = await page.locator("#recent-dead-letters td").allTextContents();
    expect(table).toContain("MALFORMED_JSON");
    expect(table).toContain("UNKNOWN_TOPIC");

    // live: the throughput chart keeps gaining points
    const before = Number(await page.locator("#throughput").getAttribute("data-points"));
    await page.waitForTimeout(2500);
    expect(Number(await page.locator("#throughput").getAttribute("data-points"))).toBeGreaterThan(before);
    expect(await page.locator("#node-status").getAttribute("class")).toContain("ready");

    await page.screenshot({ path: join(OUTPUT, "operational.png"), fullPage: true });
    report("operational", await pageStats(page));
    expect(problems).toEqual([]);
    await page.close();
  });

  test("analytics: the city map holds the registered sensors, windows arrive live over /ws", async () => {
    const { page, problems } = await openView("analytics");
    const points = await panelsWithData(page, PANELS.analytics);
    for (const [id, n] of Object.entries(points))
      expect({ id, hasData: n > 0 }).toEqual({ id, hasData: true });

    const expected = (await summary()).sensors.map.length;
    expect(expected).toBeGreaterThan(0);
    expect(await page.locator("#city-map circle").count()).toBe(expected);
    // districts are named on the map, from the sensor registry
    expect(await page.locator("#city-map text").count()).toBeGreaterThan(0);

    const stats = await pageStats(page);
    expect(stats.feedMessages).toBeGreaterThan(0);
    expect(stats.feedLagMs.length).toBeGreaterThan(0);

    await page.screenshot({ path: join(OUTPUT, "analytics.png"), fullPage: true });
    report("analytics", stats);
    expect(problems).toEqual([]);
    await page.close();
  });

  test("executive: the four KPIs show values with their trends", async () => {
    const { page, problems } = await openView("executive");
    // three looks at least, so the trends are lines in the screenshot
    const points = await panelsWithData(page, PANELS.executive, 3);
    for (const [id, n] of Object.entries(points))
      expect({ id, hasData: n > 0 }).toEqual({ id, hasData: true });

    const kpis = await page.locator(".kpi .value").allTextContents();
    expect(kpis).toHaveLength(4);
    for (const text of kpis) expect(text).not.toBe("-");
    // availability: every look found the node healthy
    expect(await page.locator("#kpi-availability .value").textContent()).toBe("100.00%");

    await page.screenshot({ path: join(OUTPUT, "executive.png"), fullPage: true });
    report("executive", await pageStats(page));
    expect(problems).toEqual([]);
    await page.close();
  });

  test("/dashboard opens the operational view", async () => {
    const page = await browser.newPage();
    await page.goto(`${node.apiUrl}/dashboard`);
    expect(new URL(page.url()).pathname).toBe("/dashboard/operational");
    await page.close();
  });
});
