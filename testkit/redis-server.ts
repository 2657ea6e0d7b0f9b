import { RedisClient } from "bun";

/**
 * Redis for tests and benchmarks: the server `infra/up.sh redis` starts (REDIS_URL, default
 * redis://127.0.0.1:6379). Each test keeps its keys under its own prefix, so tests running at
 * the same time never see each other's entries.
 */
export const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

export async function redisAnswers(url: string = redisUrl): Promise<boolean> {
  const client = new RedisClient(url, { connectionTimeout: 2000, autoReconnect: false });
  try {
    await client.connect();
    return (await client.send("PING", [])) === "PONG";
  } catch (error) {
    if (error instanceof Error) return false;
    throw error;
  } finally {
    client.close();
  }
}

export async function requireRedis(): Promise<void> {
  if (!(await redisAnswers()))
    throw new Error(`no Redis at ${redisUrl}: start it with \`bun run infra:up redis\` (or set REDIS_URL)`);
}

export function uniqueRedisPrefix(name: string): string {
  return `test-${name}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e9).toString(36)}`;
}

/** deletes every key under a test's prefix (SCAN + UNLINK), so test runs leave Redis as they found it */
export async function deleteRedisPrefix(prefix: string, url: string = redisUrl): Promise<void> {
  const client = new RedisClient(url, { connectionTimeout: 2000, autoReconnect: false });
  await client.connect();
  try {
    let cursor = "0";
    do {
      const [next, keys] = (await client.send("SCAN", [cursor, "MATCH", `${prefix}:*`, "COUNT", "1000"])) as [
        string,
        string[],
      ];
      if (keys.length > 0) await client.send("UNLINK", keys);
      cursor = next;
    } while (cursor !== "0");
  } finally {
    client.close();
  }
}
