import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Browser } from "playwright-core";
import type { RunningNode } from "../../../node/start-node.ts";
import { launchChromium } from "../../../testkit/chromium.ts";
import { startTestNode } from "../../node/node-fixture.ts";

/**
 * A dashboard on a node with API keys, in Debian's Chromium: the page asks for a key instead of
 * failing silently, then polls its summary with the key as a bearer token and follows /ws with
 * it as `access_token` (regression: the pages sent no credential, so a node with a key showed
 * "node unreachable (401)" for ever).
 */
/** what the page's scripts see (the tests are type-checked without the DOM library) */
interface PageGlobals {
  document: { cookie: string; getElementById(id: string): { textContent: string | null } | null };
  sessionStorage: { getItem(key: string): string | null };
}

const KEY = "dashboard-test-admin-key-0123456789abcdef";
let node: RunningNode;
let cleanup: () => Promise<void>;
let browser: Browser;

beforeAll(async () => {
  ({ node, cleanup } = await startTestNode({ simulate: true, rate: 200, windowMs: 1000, adminApiKey: KEY }));
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await cleanup?.();
});

test("the page asks for an API key, then shows the node's data and its live feeds with it", async () => {
  const page = await browser.newPage();
  const unauthorised: string[] = [];
  page.on("response", (response) => {
    if (response.status() === 401) unauthorised.push(response.url());
  });
  await page.goto(`${node.apiUrl}/dashboard/analytics`, { waitUntil: "load" });
  const input = page.locator("#node-status form input[type=password]");
  await input.waitFor({ timeout: 15_000 });
  const before = unauthorised.length;
  expect(before).toBeGreaterThan(0);
  await input.fill(KEY);
  await page.locator("#node-status form button").click();
  await page.waitForFunction(
    () =>
      (globalThis as unknown as PageGlobals).document
        .getElementById("node-status")
        ?.textContent?.includes("workers"),
    null,
    {
      timeout: 15_000,
    },
  );
  await page.waitForFunction(
    () =>
      ((globalThis as unknown as { dashboardStats?: { feedMessages: number } }).dashboardStats
        ?.feedMessages ?? 0) > 0,
    null,
    { timeout: 20_000 },
  );
  // the key is kept for this tab only, never in a cookie
  expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).document.cookie)).toBe("");
  expect(
    await page.evaluate(() =>
      (globalThis as unknown as PageGlobals).sessionStorage.getItem("platform-api-key"),
    ),
  ).toBe(KEY);
  await page.close();
}, 60_000);
