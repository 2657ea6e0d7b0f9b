import { afterEach, beforeEach, expect, spyOn, test } from "bun:test";
import { PlatformMetrics } from "../../api/metrics.ts";
import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import { countCorruptChangelog } from "../../node/node-context.ts";

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
