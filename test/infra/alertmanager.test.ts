import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { alertmanagerUrl, requireAlertmanager, skipAlertmanager } from "../../testkit/alertmanager.ts";

/**
 * The Alertmanager `infra/up.sh alertmanager` starts (Debian's prometheus-alertmanager): ready,
 * one instance without a gossip cluster, running infra/alertmanager/alertmanager.yml, and seen by
 * infra/status.sh. Skipped with SKIP_INFRA_TESTS=1.
 */
const repo = join(import.meta.dir, "..", "..");

describe.skipIf(skipAlertmanager)("the infra Alertmanager", () => {
  test("answers its v2 API as one instance with infra's configuration", async () => {
    await requireAlertmanager();
    const status = (await (await fetch(`${alertmanagerUrl}/api/v2/status`)).json()) as {
      cluster: { status: string };
      config: { original: string };
      versionInfo: { version: string };
    };
    expect(status.cluster.status).toBe("disabled");
    expect(status.config.original).toContain("receiver: keep");
    expect(status.versionInfo.version.length).toBeGreaterThan(0);
  });

  test("infra/status.sh reports it ready", () => {
    const result = Bun.spawnSync(["bash", join(repo, "infra", "status.sh"), "alertmanager"], {
      stdout: "pipe",
    });
    expect(result.stdout.toString()).toMatch(/^alertmanager\s+ready\s/m);
    expect(result.exitCode).toBe(0);
  });
});
