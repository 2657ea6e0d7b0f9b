import { describe, expect, test } from "bun:test";
import { awaitConfigsShown } from "../../../log/kafka/topic-config-wait.ts";
import { isPlatformError } from "../../../messages/errors.ts";

const compacted = [{ name: "cleanup.policy", value: "compact" }];
const shown = (entries: Record<string, string>) =>
  new Map(Object.entries(entries).map(([name, value]) => [name, { value }]));

/**
 * A broker that describes the old configs `stale` times, then the new ones; time moves only
 * when the wait sleeps, so the deadline is reached after a known number of describes.
 */
function laggingBroker(stale: number, after: Record<string, string>) {
  let clock = 0;
  let describes = 0;
  return {
    describe: async () => {
      describes++;
      return describes <= stale
        ? shown({ "cleanup.policy": "delete", "retention.ms": "604800000" })
        : shown(after);
    },
    wait: {
      timeoutMs: 1000,
      pollMs: 50,
      now: () => clock,
      sleep: async (ms: number) => {
        clock += ms;
      },
    },
    describes: () => describes,
    clock: () => clock,
  };
}

describe("waiting until a topic's altered configs show", () => {
  test.each([
    { name: "shown at once", stale: 0, describes: 1 },
    { name: "the old configs described 3 times first", stale: 3, describes: 4 },
    { name: "the old configs until the last describe before the deadline", stale: 20, describes: 21 },
  ])("returns on the first describe that shows them: $name", async ({ stale, describes }) => {
    const broker = laggingBroker(stale, { "cleanup.policy": "compact" });
    expect(await awaitConfigsShown("t", compacted, broker.describe, broker.wait)).toBe(describes);
    expect(broker.describes()).toBe(describes);
  });

  test("waits for every change, not the first one to show", async () => {
    const changes = [...compacted, { name: "retention.ms", value: "3600000" }];
    let describes = 0;
    const answers = [
      shown({ "cleanup.policy": "compact", "retention.ms": "604800000" }),
      shown({ "cleanup.policy": "compact", "retention.ms": "3600000" }),
    ];
    const taken = await awaitConfigsShown("t", changes, async () => answers[Math.min(describes++, 1)]!, {
      timeoutMs: 1000,
      pollMs: 0,
      sleep: async () => {},
    });
    expect(taken).toBe(2);
  });

  test("fails with LOG_TOPIC_CONFIG_TIMEOUT naming what did not show once the deadline passed", async () => {
    const broker = laggingBroker(Number.POSITIVE_INFINITY, {});
    const error = await awaitConfigsShown("city.changelog", compacted, broker.describe, broker.wait).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isPlatformError(error, "LOG_TOPIC_CONFIG_TIMEOUT")).toBe(true);
    // 1000 ms at 50 ms a pause: 21 describes, the last one at the deadline, and no more
    expect(broker.describes()).toBe(21);
    expect(broker.clock()).toBe(1000);
    expect((error as { details: unknown }).details).toEqual({
      topic: "city.changelog",
      configs: ["cleanup.policy"],
      describes: 21,
    });
  });

  test("a describe that fails ends the wait with its own error", async () => {
    const failure = new Error("broker went away");
    const wait = { timeoutMs: 1000, pollMs: 0, sleep: async () => {} };
    await expect(awaitConfigsShown("t", compacted, () => Promise.reject(failure), wait)).rejects.toBe(
      failure,
    );
  });
});
