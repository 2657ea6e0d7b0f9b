import { join } from "node:path";
import { EmbeddedOnlineStore } from "./embedded-online-store.ts";
import type { OnlineStore } from "./online-store.ts";
import { RedisOnlineStore } from "./redis-online-store.ts";

/** Redis when a URL is given (REDIS_URL), else the embedded store in `<dataDir>/features/online.db`. */
export async function openOnlineStore(options: {
  readonly dataDir: string;
  readonly redisUrl?: string | undefined;
  readonly prefix?: string;
}): Promise<OnlineStore> {
  if (options.redisUrl)
    return RedisOnlineStore.open({
      url: options.redisUrl,
      ...(options.prefix ? { prefix: options.prefix } : {}),
    });
  return new EmbeddedOnlineStore(join(options.dataDir, "features", "online.db"));
}
