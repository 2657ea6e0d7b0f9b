import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EmbeddedTrackingStore } from "../../../../ml/tracking/embedded/embedded-tracking-store.ts";
import { ensureExperiment } from "../../../../ml/tracking/tracking-store.ts";
import { trackingStoreContract } from "../tracking-store.contract.ts";

const dir = mkdtempSync(join(tmpdir(), "tracking-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

trackingStoreContract("embedded (bun:sqlite + artifact folder)", async () =>
  EmbeddedTrackingStore.open({ dir }),
);

test("runs, metrics and artifacts survive closing and reopening the store", async () => {
  const folder = mkdtempSync(join(tmpdir(), "tracking-reopen-"));
  try {
    const first = EmbeddedTrackingStore.open({ dir: folder });
    const experiment = await ensureExperiment(first, "reopen");
    const run = await first.createRun({ experimentId: experiment.id, name: "kept" });
    await first.logMetrics(run.runId, [{ key: "rmse", value: 1.25, step: 3, timestamp: 5 }]);
    await first.logArtifact(run.runId, "model.json", new Uint8Array([1, 2, 3]));
    await first.endRun(run.runId, "FINISHED");
    await first.close();

    const second = EmbeddedTrackingStore.open({ dir: folder });
    const read = await second.getRun(run.runId);
    expect(read.info.status).toBe("FINISHED");
    expect(read.metrics.rmse?.value).toBe(1.25);
    expect(await second.readArtifact(run.runId, "model.json")).toEqual(new Uint8Array([1, 2, 3]));
    await second.close();
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});
