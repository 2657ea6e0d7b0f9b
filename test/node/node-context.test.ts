import { afterEach, beforeEach, expect, spyOn, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PlatformMetrics } from "../../api/metrics.ts";
import { openLog } from "../../log/index.ts";
import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import { countCorruptChangelog, type NodeContext, openChangelog } from "../../node/node-context.ts";

/**
 * A changelog state that does not decode, whether the store met it or the actor that owns its
 * key did: every one is counted as a dead letter of `changelog:<kind>`, and the first one of a
 * kind is said with its key and reason (a damaged changelog of a million keys is one line).
 */
// the suite's files share one process: the spy lives for one test at a time
let said: ReturnType<typeof spyOn<Console, "error">>;
beforeEach(() => {
  said = spyOn(console, "error").mockImplementation(() => {});
});
afterEach(() => said.mockRestore());

async function countOf(metrics: PlatformMetrics, source: string): Promise<number> {
  const { values } = await metrics.deadLetters.get();
  return (
    values.find((v) => v.labels.source === source && v.labels.code === ErrorCodes.DECODE_FAILED)?.value ?? 0
  );
}

test("every corrupt changelog state is counted, and the first of each kind is said once with its key and reason", async () => {
  const metrics = new PlatformMetrics({ processMetrics: false });
  const onCorrupt = countCorruptChangelog({ metrics });
  const refused = new PlatformError(ErrorCodes.CONFIG_INVALID, "snapshot was taken with another assigner");
  onCorrupt("window", "traffic:0:s-1", refused);
  onCorrupt("window", "traffic:0:s-2", refused);
  // a second handler of the same node (another kind's store) shares what was said
  countCorruptChangelog({ metrics })("window", "traffic:1:s-3", refused);
  onCorrupt("sensor", null, new Error("not JSON"));

  expect(await countOf(metrics, "changelog:window")).toBe(3);
  expect(await countOf(metrics, "changelog:sensor")).toBe(1);
  const lines = said.mock.calls.map((call) => String(call[0]));
  expect(lines).toHaveLength(2);
  expect(lines[0]).toContain("changelog window: the state of traffic:0:s-1");
  expect(lines[0]).toContain("CONFIG_INVALID: snapshot was taken with another assigner");
  expect(lines[0]).toContain("starts empty");
  // an error that is not the platform's is not echoed
  expect(lines[1]).toBe(
    'changelog sensor: the state of a record without a key does not decode; that key starts empty (further ones are counted in platform_dead_letters_total{source="changelog:sensor"})',
  );
});

test("another node's metrics say their first corrupt state again", async () => {
  const first = new PlatformMetrics({ processMetrics: false });
  const second = new PlatformMetrics({ processMetrics: false });
  countCorruptChangelog({ metrics: first })("window", "k", undefined);
  countCorruptChangelog({ metrics: second })("window", "k", undefined);
  expect(said.mock.calls).toHaveLength(2);
});

// regression, found restoring a node whose changelogs a probe had damaged: the stores opened by
// openChangelog (markets, news) and the aggregates dropped the key and the reason, so the line
// said "the state of a record without a key" for the keyed record "AMZN"
test("a corrupt state met while restoring a store of openChangelog is said with its key and reason", async () => {
  const dir = mkdtempSync(join(tmpdir(), "corrupt-changelog-"));
  const log = await openLog({ kind: "embedded", path: join(dir, "log.db"), maintenanceIntervalMs: 0 });
  try {
    const metrics = new PlatformMetrics({ processMetrics: false });
    const config = { applicationId: "corrupt-probe" } as NodeContext["config"];
    const store = await openChangelog({ config, log, metrics }, "symbol-probe", { partitions: 1 });
    await log.append([
      {
        topic: "corrupt-probe.symbol-probe.changelog",
        partition: 0,
        key: "AMZN",
        value: new Uint8Array([0x7b]),
      },
    ]);

    await store.restorePartition(0);

    expect(await countOf(metrics, "changelog:symbol-probe")).toBe(1);
    const line = String(said.mock.calls[0]?.[0]);
    expect(line).toContain("the state of AMZN does not decode");
    expect(line).not.toContain("without a key");
  } finally {
    await log.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
