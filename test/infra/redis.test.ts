import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { RedisClient } from "bun";

/**
 * The Redis `bun run infra:up redis` starts (the feature store's online store): status.sh says
 * ready, it answers on loopback, keeps an append-only file, and listens on 127.0.0.1 only.
 * Skipped with SKIP_INFRA_TESTS=1, like the other infra tests.
 */
const skip = process.env.SKIP_INFRA_TESTS === "1";
const repo = join(import.meta.dir, "..", "..");
const hint = "start it with `bun run infra:up redis` (or set SKIP_INFRA_TESTS=1)";

describe.skipIf(skip)("infra Redis", () => {
  test("infra/status.sh reports redis ready", () => {
    const status = Bun.spawnSync(["bash", join(repo, "infra", "status.sh"), "redis"], { stdout: "pipe" });
    expect(status.stdout.toString(), hint).toMatch(/^redis\s+ready\s+pid=\S+\s+redis:\/\/127\.0\.0\.1:6379/m);
    expect(status.exitCode).toBe(0);
  });

  test("Redis answers on 127.0.0.1:6379 with an append-only file, bound to loopback", async () => {
    const client = new RedisClient("redis://127.0.0.1:6379", {
      connectionTimeout: 2000,
      autoReconnect: false,
    });
    try {
      await client.connect();
      expect(await client.send("PING", [])).toBe("PONG");
      const appendonly = (await client.send("CONFIG", ["GET", "appendonly"])) as unknown;
      expect(JSON.stringify(appendonly)).toContain("yes");
      const bind = (await client.send("CONFIG", ["GET", "bind"])) as unknown;
      expect(JSON.stringify(bind)).toContain("127.0.0.1");
      expect(JSON.stringify(bind)).not.toContain("0.0.0.0");
    } catch (error) {
      throw new Error(`Redis does not answer as infra starts it: ${hint}`, { cause: error });
    } finally {
      client.close();
    }
  });
});
