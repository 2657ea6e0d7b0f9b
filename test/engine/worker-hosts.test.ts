import { describe, expect, test } from "bun:test";
import { workerHosts } from "../../engine/worker-hosts.ts";
import { WINDOWS_ONLY } from "./engine-fixture.ts";

describe("worker hosts", () => {
  test("hand raw readings to the partition workers by default, and only binary readings when the reading parse is the main thread's", async () => {
    const byDefault = await workerHosts({
      setup: WINDOWS_ONLY,
      workers: 1,
      partitions: 2,
      ringBytes: 1 << 16,
    });
    const onMain = await workerHosts({
      setup: WINDOWS_ONLY,
      workers: 1,
      partitions: 2,
      ringBytes: 1 << 16,
      readingParse: "main",
    });
    try {
      expect(byDefault.sendRawReading).toBeFunction();
      // the dispatcher reads every reading itself when its hosts take no raw ones (engine/dispatcher.ts)
      expect(onMain.sendRawReading).toBeUndefined();
    } finally {
      await Promise.all([byDefault.stop(), onMain.stop()]);
    }
  });
});
