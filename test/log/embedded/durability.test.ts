import { Database } from "bun:sqlite";
import { expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openEmbeddedLog } from "../../../log/embedded/index.ts";
import type { LogRecord } from "../../../log/log.ts";

const BATCH = 40;
const PARTITIONS = 3;

/** read lines from the child's stdout until `enough` acked batches were seen; returns the last */
async function lastAckedAfter(
  stdout: ReadableStream<Uint8Array>,
  enough: number,
  timeoutMs: number,
): Promise<number> {
  const reader = stdout.getReader();
  const decoder = new TextDecoder();
  const deadline = Date.now() + timeoutMs;
  let buffered = "";
  let last = -1;
  while (last < enough && Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    buffered += decoder.decode(value, { stream: true });
    const lines = buffered.split("\n");
    buffered = lines.pop()!;
    for (const line of lines) if (line.startsWith("acked ")) last = Number(line.slice(6));
  }
  reader.releaseLock();
  return last;
}

// NORMAL is the node's default: in WAL mode it survives a killed process (the OS keeps the
// written pages), only a power loss may lose the last commits; FULL survives that too.
// background: the node's setting, where a thread of its own checkpoints the WAL while the
// process appends (log/embedded/wal-checkpointer.ts)
test.each([
  ["FULL", "inline"],
  ["NORMAL", "inline"],
  ["NORMAL", "background"],
] as const)(
  "with synchronous=%s and %s checkpoints every batch acknowledged before kill -9 is present after reopening, with contiguous offsets",
  async (synchronous, checkpoints) => {
    const dir = mkdtempSync(join(tmpdir(), "embedded-durability-"));
    const path = join(dir, "log.db");
    try {
      const setup = openEmbeddedLog({ path, maintenanceIntervalMs: 0 });
      await setup.createTopic({ name: "durable", partitions: PARTITIONS });
      await setup.close();

      const child = Bun.spawn(
        [
          "bun",
          join(import.meta.dir, "append-until-killed.ts"),
          path,
          "durable",
          `${BATCH}`,
          synchronous,
          checkpoints,
        ],
        {
          stdout: "pipe",
          stderr: "inherit",
        },
      );
      // the background case runs long enough (~12k records) for the thread to checkpoint under it
      const lastAcked = await lastAckedAfter(child.stdout, checkpoints === "background" ? 300 : 25, 20_000);
      child.kill("SIGKILL");
      await child.exited;
      expect(lastAcked).toBeGreaterThanOrEqual(0);

      // the journal mode is stored in the file: it must be the write-ahead log
      const inspector = new Database(path, { readonly: true });
      expect(inspector.query<{ journal_mode: string }, []>("PRAGMA journal_mode").get()?.journal_mode).toBe(
        "wal",
      );
      inspector.close();

      const log = openEmbeddedLog({ path, maintenanceIntervalMs: 0 });
      try {
        const records: LogRecord[] = [];
        for (let partition = 0; partition < PARTITIONS; partition++) {
          const stored = await log.read({ topic: "durable", partition }, { maxRecords: 1_000_000 });
          stored.forEach((record, index) => {
            expect(record.offset).toBe(index);
          });
          expect(await log.endOffset({ topic: "durable", partition })).toBe(stored.length);
          records.push(...stored);
        }
        const values = new Set(records.map((record) => new TextDecoder().decode(record.value!)));
        for (let batch = 0; batch <= lastAcked; batch++) {
          for (let i = 0; i < BATCH; i++) expect(values.has(`${batch}:${i}`)).toBe(true);
        }
        // a batch is one transaction: it is there whole or not at all
        expect(records.length % BATCH).toBe(0);
        expect(records.length).toBeGreaterThanOrEqual((lastAcked + 1) * BATCH);
      } finally {
        await log.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
  60_000,
);
