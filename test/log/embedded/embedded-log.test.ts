import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openEmbeddedLog } from "../../../log/embedded/index.ts";
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
