import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openActorStateStores } from "../../engine/actor-state.ts";
import { openEmbeddedLog } from "../../log/embedded/index.ts";

/**
 * A partition lost to another owner (this member was fenced) must not get any more of this
 * member's state into its changelog: a late write would land over the new owner's state.
 */
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function restoredKeys(stores: Awaited<ReturnType<typeof openActorStateStores>>, partition: number) {
  const keys: string[] = [];
  await stores.restore([partition], async (_p, kind, key) => {
    keys.push(`${kind}/${key}`);
  });
  return keys.sort();
}

test("state of a lost partition, buffered or arriving later, is never written; written again once the partition is restored", async () => {
  const dir = mkdtempSync(join(tmpdir(), "actor-state-"));
  dirs.push(dir);
  const log = openEmbeddedLog({ path: join(dir, "log.db"), maintenanceIntervalMs: 0 });
  try {
    const stores = await openActorStateStores(log, { applicationId: "app", partitions: 2 });
    stores.save("window", "traffic:0:a", 0, { count: 1 });
    stores.save("window", "traffic:1:b", 1, { count: 1 });
    stores.discard?.([0]);
    // a worker's checkpoint that was already on its way when the partition was lost
    stores.save("sensor", "a", 0, { seen: 7 });
    await stores.flush();
    expect(await restoredKeys(stores, 1)).toEqual(["window/traffic:1:b"]);
    expect(await restoredKeys(stores, 0)).toEqual([]);

    // assigned again: restored (nothing of the lost member's), then its state is written again
    stores.save("sensor", "a", 0, { seen: 9 });
    await stores.flush();
    expect(await restoredKeys(stores, 0)).toEqual(["sensor/a"]);
  } finally {
    await log.close();
  }
});
