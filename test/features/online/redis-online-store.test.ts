import { afterAll, expect, test } from "bun:test";
import { RedisOnlineStore } from "../../../features/online/redis-online-store.ts";
import { ErrorCodes, PlatformError } from "../../../messages/errors.ts";
import {
  deleteRedisPrefix,
  redisUrl,
  requireRedis,
  uniqueRedisPrefix,
} from "../../../testkit/redis-server.ts";
import { onlineStoreContract } from "./online-store.contract.ts";

await requireRedis();
const prefix = uniqueRedisPrefix("online-store");
afterAll(() => deleteRedisPrefix(prefix));

onlineStoreContract("Redis (real server)", {
  open: () => RedisOnlineStore.open({ url: redisUrl, prefix }),
  reopen: () => RedisOnlineStore.open({ url: redisUrl, prefix }),
});

// regression, found starting a node with REDIS_URL pointing nowhere: the client reconnects for
// ever (maxRetries is 1,000,000 so a running node rides out a Redis restart), so the first connect
// never settled and the node hung at start without a word
test("opening a Redis that does not answer fails within its bound, with the address and no password", async () => {
  const { createServer } = await import("node:net");
  // a port that refuses: bound, then closed
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const started = Date.now();

  const opening = RedisOnlineStore.open({
    url: `redis://user:hunter2-secret@127.0.0.1:${address.port}`,
    prefix,
    connectionTimeoutMs: 500,
    firstConnectWithinMs: 2_000,
  });

  const error = (await opening.then(
    () => undefined,
    (e: unknown) => e,
  )) as PlatformError;
  expect(error).toBeInstanceOf(PlatformError);
  expect(error.code).toBe(ErrorCodes.INFRA_UNAVAILABLE);
  expect(error.message).toContain(`127.0.0.1:${address.port}`);
  expect(error.message).not.toContain("hunter2");
  expect(Date.now() - started).toBeLessThan(10_000);
});
