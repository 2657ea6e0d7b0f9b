import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/**
 * The dashboard's static files: a fixed table of names, each read once when the routes are
 * built. Every file is served by a route of its own name, so no request path ever reaches the
 * file system: there is nothing to traverse. The chart library is uPlot's ES module build from
 * node_modules (the page imports it as it is; no bundler, no build step).
 */
export interface StaticAsset {
  readonly body: string;
  readonly contentType: string;
}

const JS = "text/javascript; charset=utf-8";
const CSS = "text/css; charset=utf-8";

/** served under /dashboard/assets/<name> */
const OWN_ASSETS: Readonly<Record<string, string>> = {
  "dashboard.css": CSS,
  "live-data.js": JS,
  "charts.js": JS,
  "city-map.js": JS,
  "page-stats.js": JS,
  "operational.js": JS,
  "analytics.js": JS,
  "executive.js": JS,
};

/** served under /dashboard/vendor/<name>, from the npm package */
const VENDOR_ASSETS: Readonly<Record<string, { readonly module: string; readonly contentType: string }>> = {
  "uplot.js": { module: "uplot/dist/uPlot.esm.js", contentType: JS },
  "uplot.css": { module: "uplot/dist/uPlot.min.css", contentType: CSS },
};

export function loadDashboardAssets(): { own: Map<string, StaticAsset>; vendor: Map<string, StaticAsset> } {
  const own = new Map<string, StaticAsset>();
  for (const [name, contentType] of Object.entries(OWN_ASSETS))
    own.set(name, { body: readFileSync(new URL(`./assets/${name}`, import.meta.url), "utf8"), contentType });
  const vendor = new Map<string, StaticAsset>();
  for (const [name, { module, contentType }] of Object.entries(VENDOR_ASSETS))
    vendor.set(name, {
      body: readFileSync(fileURLToPath(import.meta.resolve(module)), "utf8"),
      contentType,
    });
  return { own, vendor };
}
