import { expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type LogConfig, openLog } from "../../log/index.ts";
import { ErrorCodes } from "../../messages/errors.ts";

test("openLog with kind embedded opens a working log at the path", async () => {
  const dir = mkdtempSync(join(tmpdir(), "open-log-"));
  try {
    const log = await openLog({ kind: "embedded", path: join(dir, "nested", "log.db") });
    await log.createTopic({ name: "t", partitions: 2 });
    expect(await log.partitions("t")).toBe(2);
    await log.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("openLog refuses an unknown kind with CONFIG_INVALID", async () => {
  const config = { kind: "carrier-pigeon" } as unknown as LogConfig;
  await expect(openLog(config)).rejects.toThrow(ErrorCodes.CONFIG_INVALID);
});
