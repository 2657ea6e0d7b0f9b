/**
 * The dashboard's targets, measured in Debian's Chromium against a real `bun cluster.ts` process
 * whose simulator publishes `--rate` readings/s (default 20,000; 50 per sensor at most): the
 * analytics page, the busiest (every window update of every sensor comes over /ws and is drawn
 * once per frame), open for `--seconds`. Figures: the page's first paint and first data, its
 * window updates/s, what the node dropped for it, and its update lag (the node's emission of a
 * window to the frame that drew it, p50/p99). Baseline, same run and feed: a bare Bun WebSocket
 * client subscribed to the same feed, lag from emission to receipt.
 *
 *   bun bench/dashboard-live.ts [--rate 20000] [--seconds 15] [--workers 2]
 * Targets: first paint <= 1 s; live updates at 20k readings/s without the page falling behind.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { launchChromium } from "../testkit/chromium.ts";
import { freePort } from "../testkit/prometheus-server.ts";
import { printFigure, quantile } from "./support.ts";

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const rate = arg("rate", 20_000);
const seconds = arg("seconds", 15);
const workers = arg("workers", 2);
const sensorsPerType = Math.ceil(rate / 50 / 3);
const [port, mqttPort] = [await freePort(), await freePort()];
const dataDir = mkdtempSync(join(tmpdir(), "dashboard-bench-"));
const api = `http://127.0.0.1:${port}`;

const node = Bun.spawn(
  [
    "bun",
    "cluster.ts",
    "--quiet",
    ...["--port", String(port), "--mqtt-port", String(mqttPort), "--data-dir", dataDir],
    ...["--rate", String(rate), "--sensors", String(sensorsPerType), "--workers", String(workers)],
    ...["--window-ms", "5000"],
  ],
  { cwd: join(import.meta.dir, ".."), stdout: "inherit", stderr: "inherit" },
);

// a bench stopped from outside (Ctrl-C, a timeout) takes its node with it
for (const signal of ["SIGINT", "SIGTERM"] as const)
  process.on(signal, () => {
    node.kill("SIGKILL");
    rmSync(dataDir, { recursive: true, force: true });
    process.exit(130);
  });

interface PageStats {
  firstPaintMs: number | null;
  firstDataMs: number | null;
  feedMessages: number;
  feedDropped: number;
  frames: number;
  feedLagMs: number[];
}

async function appended(): Promise<number> {
  const summary = (await (await fetch(`${api}/api/dashboard/summary`)).json()) as {
    totals: { appended: number };
  };
  return summary.totals.appended;
}

async function waitForHealth(): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const ok = await fetch(`${api}/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await Bun.sleep(200);
  }
  throw new Error("the cluster did not become healthy within 120 s");
}

/** a plain client on the same feed: lag from the window's emission to its receipt */
function bareClient(): { lags: number[]; messages: () => number; close(): void } {
  const lags: number[] = [];
  let messages = 0;
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
  ws.onopen = () => ws.send(JSON.stringify({ op: "subscribe", feeds: ["windows"] }));
  ws.onmessage = (event) => {
    const message = JSON.parse(String(event.data)) as { feed?: string; data?: { emitted_at: number } };
    if (message.feed !== "windows" || !message.data) return;
    messages++;
    if (lags.length < 1_000_000) lags.push(Date.now() - message.data.emitted_at);
  };
  return { lags, messages: () => messages, close: () => ws.close() };
}

try {
  await waitForHealth();
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
    const read = () =>
      page.evaluate(() => (globalThis as unknown as { dashboardStats: PageStats }).dashboardStats);
    await page.goto(`${api}/dashboard/analytics`, { waitUntil: "load" });
    await page.waitForFunction(
      () => (globalThis as unknown as { dashboardStats: PageStats }).dashboardStats.feedMessages > 0,
      undefined,
      { timeout: 60_000 },
    );
    const bare = bareClient();
    await Bun.sleep(1000);
    const [before, bareBefore, ingestBefore, startedAt] = [
      await read(),
      bare.messages(),
      await appended(),
      Date.now(),
    ];
    bare.lags.length = 0;
    await Bun.sleep(seconds * 1000);
    const [after, bareAfter, ingestAfter] = [await read(), bare.messages(), await appended()];
    const elapsed = (Date.now() - startedAt) / 1000;
    bare.close();
    const pageLags = after.feedLagMs.slice(
      -Math.min(after.feedLagMs.length, after.feedMessages - before.feedMessages),
    );
    const ingested = Math.round((ingestAfter - ingestBefore) / elapsed);
    console.log(
      `node ingested ${ingested} readings/s (asked ${rate}); page took ${Math.round((after.feedMessages - before.feedMessages) / elapsed)} window updates/s, ` +
        `bare client ${Math.round((bareAfter - bareBefore) / elapsed)}/s; dropped for the page ${after.feedDropped - before.feedDropped}; ` +
        `${Math.round((after.frames - before.frames) / elapsed)} frames/s`,
    );
    printFigure({
      name: "dashboard-first-paint",
      value: Math.round(after.firstPaintMs ?? Number.NaN),
      unit: "ms",
      baseline: "first data on screen (summary drawn)",
      baseline_value: Math.round(after.firstDataMs ?? Number.NaN),
      target_ms: 1000,
    });
    printFigure({
      name: "dashboard-update-lag-p99",
      value: Math.round(quantile(pageLags, 0.99)),
      unit: "ms",
      baseline: "bare WebSocket client p99, same feed",
      baseline_value: Math.round(quantile(bare.lags, 0.99)),
      p50_ms: Math.round(quantile(pageLags, 0.5)),
      baseline_p50_ms: Math.round(quantile(bare.lags, 0.5)),
      ingested_per_s: ingested,
      page_updates_per_s: Math.round((after.feedMessages - before.feedMessages) / elapsed),
      dropped_for_page: after.feedDropped - before.feedDropped,
    });
  } finally {
    await browser.close();
  }
} finally {
  node.kill("SIGTERM");
  // an overloaded node drains its broker's backlog before it stops: give it a minute
  const stopDeadline = setTimeout(() => node.kill("SIGKILL"), 60_000);
  const code = await node.exited;
  clearTimeout(stopDeadline);
  if (code !== 0) console.error(`the cluster exited with code ${code}`);
  rmSync(dataDir, { recursive: true, force: true });
}
