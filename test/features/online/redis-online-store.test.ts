import { afterAll } from "bun:test";
import { RedisOnlineStore } from "../../../features/online/redis-online-store.ts";
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
