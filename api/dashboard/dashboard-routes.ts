import { Hono } from "hono";
import { loadDashboardAssets, type StaticAsset } from "./dashboard-assets.ts";
import { DASHBOARD_VIEWS, dashboardPage } from "./dashboard-pages.ts";
import { type DashboardSummaryDeps, dashboardSummary } from "./dashboard-summary.ts";

/**
 * The built-in dashboard: `/dashboard/<view>` pages and their static files (mounted at
 * `/dashboard`), and the summary they poll (mounted at `/api/dashboard`). GET only; errors and
 * unknown paths are the main app's (`{"error":{"code","message"}}`).
 *
 * The pages load only what this node serves (scripts, styles, the WebSocket on the same
 * origin), which the Content-Security-Policy says, so a page cannot be made to run or fetch
 * anything else.
 */
const SECURITY_HEADERS = {
  "content-security-policy":
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
} as const;

export function dashboardPages(): Hono {
  const app = new Hono();
  const { own, vendor } = loadDashboardAssets();
  const serve = (asset: StaticAsset) => () =>
    new Response(asset.body, {
      headers: { "content-type": asset.contentType, "cache-control": "no-cache", ...SECURITY_HEADERS },
    });

  app.get("/", (c) => c.redirect("/dashboard/operational", 302));
  for (const view of DASHBOARD_VIEWS) {
    const html = dashboardPage(view);
    app.get(`/${view}`, (c) => c.html(html, 200, { "cache-control": "no-cache", ...SECURITY_HEADERS }));
  }
  // one route per file, by its exact name: a path never reaches the file system
  for (const [name, asset] of own) app.get(`/assets/${name}`, serve(asset));
  for (const [name, asset] of vendor) app.get(`/vendor/${name}`, serve(asset));
  return app;
}

export function dashboardData(deps: DashboardSummaryDeps): Hono {
  const app = new Hono();
  app.get("/summary", async (c) =>
    c.json(await dashboardSummary(deps), 200, { "cache-control": "no-store" }),
  );
  return app;
}
