import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openEmbeddedLog } from "../../../log/embedded/index.ts";
import { ErrorCodes, isPlatformError } from "../../../messages/errors.ts";
import { logContract } from "../log.contract.ts";

logContract("embedded (bun:sqlite)", async () => {
  const dir = mkdtempSync(join(tmpdir(), "embedded-log-"));
  const log = openEmbeddedLog({
    path: join(dir, "log.db"),
    heartbeatIntervalMs: 100,
    sessionTimeoutMs: 3000,
  });
  return {
    log,
    async cleanup() {
      await log.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe("embedded log group commit", () => {
  const value = new Uint8Array([7]);

  test("appends of one turn share a transaction: each resolves with its own positions, in call order", async () => {
    const dir = mkdtempSync(join(tmpdir(), "embedded-log-"));
    const log = openEmbeddedLog({ path: join(dir, "log.db") });
    try {
      await log.createTopic({ name: "t", partitions: 1 });
      const first = log.append([{ topic: "t", key: "a", value, partition: 0 }]);
      const second = log.append([
        { topic: "t", key: "b", value, partition: 0 },
        { topic: "t", key: "c", value, partition: 0 },
      ]);
      expect((await first).map((p) => p.offset)).toEqual([0]);
      expect((await second).map((p) => p.offset)).toEqual([1, 2]);
      expect((await log.read({ topic: "t", partition: 0 })).map((r) => r.key)).toEqual(["a", "b", "c"]);
    } finally {
      await log.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("an append accepted before close is written, and one after close is refused with LOG_CLOSED", async () => {
    const dir = mkdtempSync(join(tmpdir(), "embedded-log-"));
    const path = join(dir, "log.db");
    const log = openEmbeddedLog({ path });
    try {
      await log.createTopic({ name: "t", partitions: 1 });
      const accepted = log.append([{ topic: "t", key: "a", value, partition: 0 }]);
      await log.close();
      expect((await accepted).map((p) => p.offset)).toEqual([0]);
      const refused = await log.append([{ topic: "t", key: "b", value }]).catch((error: unknown) => error);
      expect(isPlatformError(refused, ErrorCodes.LOG_CLOSED)).toBe(true);
      const reopened = openEmbeddedLog({ path });
      expect((await reopened.read({ topic: "t", partition: 0 })).map((r) => r.key)).toEqual(["a"]);
      await reopened.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a producer that reuses its buffer after the append does not change what consumers read", async () => {
    const dir = mkdtempSync(join(tmpdir(), "embedded-log-"));
    const log = openEmbeddedLog({ path: join(dir, "log.db") });
    try {
      await log.createTopic({ name: "t", partitions: 1 });
      const buffer = new Uint8Array([1, 2, 3]);
      await log.append([{ topic: "t", key: "a", value: buffer, partition: 0 }]);
      buffer.fill(9);
      const consumer = log.consumer({ groupId: "g", topics: ["t"] });
      expect([...((await consumer.poll({ timeoutMs: 1000 }))[0]?.value ?? [])]).toEqual([1, 2, 3]);
      expect([...((await log.read({ topic: "t", partition: 0 }))[0]?.value ?? [])]).toEqual([1, 2, 3]);
    } finally {
      await log.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
