import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { PlatformMetrics } from "../../api/metrics.ts";
import { DATASOURCE, dashboardFileText, GRAFANA_VIEWS } from "../../ops/grafana/dashboards.ts";

/**
 * The Grafana provisioning JSON: what ships is what ops/grafana/dashboards.ts writes, every
 * panel reads the provisioned datasource, and every series a query names exists: a metric of
 * the node (api/metrics.ts) or a recording rule of ops/prometheus/. The scrape test
 * (prometheus-scrape.test.ts) runs each query against a real Prometheus.
 */
const OPS = join(import.meta.dir, "../../ops");

interface Panel {
  title: string;
  datasource: { uid: string };
  targets: { expr: string; datasource: { uid: string } }[];
}

const shipped = (view: string) =>
  JSON.parse(readFileSync(join(OPS, `grafana/dashboards/${view}.json`), "utf8")) as {
    uid: string;
    panels: Panel[];
  };

async function knownSeries(): Promise<Set<string>> {
  const metrics = new PlatformMetrics();
  const names = new Set<string>(["up"]);
  for (const metric of await metrics.registry.getMetricsAsJSON()) {
    names.add(metric.name);
    if (String(metric.type) === "histogram")
      for (const suffix of ["_bucket", "_sum", "_count"]) names.add(`${metric.name}${suffix}`);
  }
  const rules = readFileSync(join(OPS, "prometheus/recording-rules.yml"), "utf8");
  for (const match of rules.matchAll(/record:\s*(\S+)/g)) names.add(match[1]!);
  return names;
}

/** metric and rule names in a PromQL expression: words with a colon or the platform_ prefix */
function seriesNamesIn(expr: string): string[] {
  const withoutLabels = expr.replace(/\{[^}]*\}/g, "{}").replace(/"[^"]*"/g, '""');
  return [...withoutLabels.matchAll(/\b([a-z_]+:[a-z0-9_:]+|platform_[a-z0-9_]+|up)\b/g)].map((m) => m[1]!);
}

describe("the Grafana dashboards", () => {
  for (const view of GRAFANA_VIEWS)
    test(`${view}: the shipped JSON is what ops/grafana/dashboards.ts writes`, () => {
      expect(shipped(view)).toEqual(JSON.parse(dashboardFileText(view)));
    });

  test("every panel and query reads the provisioned Prometheus datasource", () => {
    const provisioning = readFileSync(join(OPS, "grafana/provisioning/datasources/prometheus.yml"), "utf8");
    expect(provisioning).toContain(`uid: ${DATASOURCE.uid}`);
    expect(provisioning).toContain("type: prometheus");
    for (const view of GRAFANA_VIEWS)
      for (const panel of shipped(view).panels) {
        expect({ panel: panel.title, uid: panel.datasource.uid }).toEqual({
          panel: panel.title,
          uid: DATASOURCE.uid,
        });
        for (const target of panel.targets) expect(target.datasource.uid).toBe(DATASOURCE.uid);
      }
  });

  test("every series a query names is a node metric or a recording rule", async () => {
    const known = await knownSeries();
    const unknown: string[] = [];
    for (const view of GRAFANA_VIEWS)
      for (const panel of shipped(view).panels)
        for (const target of panel.targets)
          for (const name of seriesNamesIn(target.expr))
            if (!known.has(name)) unknown.push(`${view}/${panel.title}: ${name}`);
    expect(unknown).toEqual([]);
  });

  test("the name check catches a metric the node does not have", async () => {
    const known = await knownSeries();
    expect(
      seriesNamesIn('sum(rate(platform_made_up_total{a="b"}[5m]))').filter((n) => !known.has(n)),
    ).toEqual(["platform_made_up_total"]);
  });
});
