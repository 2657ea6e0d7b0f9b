import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PROMTOOL_PATH, requirePrometheus } from "../../testkit/prometheus-server.ts";

/**
 * ops/prometheus/ checked by Prometheus' own tool: the config and both rule files are valid,
 * and the alerting rules pass their unit tests (ops/prometheus/tests/, which say which alert
 * fires when, and which does not). A broken rule is refused, so the check can fail.
 */
const OPS = join(import.meta.dir, "../../ops/prometheus");

async function promtool(...args: string[]): Promise<{ code: number; output: string }> {
  requirePrometheus();
  const run = Bun.spawn([PROMTOOL_PATH, ...args], { cwd: OPS, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([
    new Response(run.stdout).text(),
    new Response(run.stderr).text(),
    run.exited,
  ]);
  return { code, output: out + err };
}

describe("promtool on ops/prometheus", () => {
  const checks: { name: string; args: string[]; expect: RegExp }[] = [
    {
      name: "the scrape config and its rule files are valid",
      args: ["check", "config", "prometheus.yml"],
      expect: /SUCCESS/,
    },
    {
      name: "the recording rules are valid",
      args: ["check", "rules", "recording-rules.yml"],
      expect: /SUCCESS: \d+ rules found/,
    },
    {
      name: "the alerting rules are valid",
      args: ["check", "rules", "alerting-rules.yml"],
      expect: /SUCCESS: \d+ rules found/,
    },
    {
      name: "the alerting rules pass their unit tests",
      args: ["test", "rules", "tests/alerting-rules.test.yml"],
      expect: /SUCCESS/,
    },
  ];
  for (const check of checks)
    test(check.name, async () => {
      const { code, output } = await promtool(...check.args);
      expect({ code, output }).toEqual({ code: 0, output: expect.stringMatching(check.expect) });
    });

  test("a rule with broken PromQL is refused", async () => {
    const dir = mkdtempSync(join(tmpdir(), "rules-"));
    try {
      const file = join(dir, "broken.yml");
      writeFileSync(
        file,
        "groups:\n  - name: broken\n    rules:\n      - record: a:b:c\n        expr: sum by (x (rate(y[5m]))\n",
      );
      const { code, output } = await promtool("check", "rules", file);
      expect(code).not.toBe(0);
      expect(output).toContain("FAILED");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
