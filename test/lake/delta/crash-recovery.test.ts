import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { DeltaTable } from "../../../lake/delta/delta-table.ts";
import { SILVER_SPEC, silverRows, tempTableDir } from "./table-fixtures.ts";

/**
 * kill -9 of a writer in the middle of its appends: the table opens, holds whole batches only,
 * and a sink replaying from its last acknowledged offset lands every batch exactly once.
 */

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await tempTableDir("delta-crash-"));
  await DeltaTable.create(dir, SILVER_SPEC);
});
afterEach(() => cleanup());

/** Starts the appending process and kills it with SIGKILL once it reported `commits` commits. */
async function appendThenKill(commits: number): Promise<number> {
  const child = Bun.spawn(["bun", join(import.meta.dir, "fixtures/append-forever.ts"), dir], {
    stdout: "pipe",
    stderr: "inherit",
  });
  let acknowledged = 0;
  let pending = "";
  const decoder = new TextDecoder();
  for await (const chunk of child.stdout) {
    pending += decoder.decode(chunk, { stream: true });
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) acknowledged = Math.max(acknowledged, Number(line.split(" ")[1]));
    if (acknowledged >= commits) {
      child.kill("SIGKILL");
      break;
    }
  }
  await child.exited;
  return acknowledged;
}

describe("a writer killed with SIGKILL mid-append", () => {
  test("leaves whole batches only, and a replay from the last acknowledged batch lands each batch exactly once", async () => {
    const acknowledged = await appendThenKill(12);
    const table = await DeltaTable.open(dir);
    const recorded = (await table.snapshot()).txnVersion("crash-sink") ?? 0;
    // the writer may have committed one more batch than it reported before the kill
    expect(recorded).toBeGreaterThanOrEqual(acknowledged);
    const rows = await table.readRows();
    expect(rows.length).toBe(recorded * 200);
    // the sink restarts from what it acknowledged and replays: already-committed batches are skipped
    for (let batch = acknowledged + 1; batch <= recorded + 3; batch++) {
      const result = await table.append(silverRows(batch * 200, 200), {
        txn: { appId: "crash-sink", version: batch },
      });
      expect(result.skipped).toBe(batch <= recorded);
    }
    const offsets = (await table.readRows()).map((r) => Number(r.offset));
    expect(offsets.length).toBe((recorded + 3) * 200);
    expect(new Set(offsets).size).toBe(offsets.length);
    // and delta's view of the log is whole: every version from 0 to the newest opens
    const history = await table.history();
    expect(history.map((h) => h.version)).toEqual(
      Array.from({ length: table.version + 1 }, (_, v) => table.version - v),
    );
  });
});
