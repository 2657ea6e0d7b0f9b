import { RedisClient } from "bun";
import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import type { OnlineRow, OnlineStore, StoredFeatures, ViewKey, WriteOptions } from "./online-store.ts";

/**
 * The online store on Redis, through Bun's built-in client (RESP3, auto-pipelining).
 *
 * Layout: one string per (view version, entity), `fs:<view>@<version>:<entity>` =
 * `<event ms>|<created ms>|<expire ms or 0>|<values JSON>`, so a read of many entities is one MGET. A write is one
 * Lua script per chunk of rows (EVALSHA after the first): the last-writer-wins comparison and
 * the SET run atomically in the server, so two writers (a streaming sink and a batch
 * materialization) cannot interleave a read and a write. With a TTL each key expires at its event
 * time + TTL (PXAT), which bounds Redis' memory to the entities seen within the TTL.
 *
 * Errors: a refused connection or a server error is INFRA_UNAVAILABLE with Redis' message; the
 * URL (which may hold a password) is never part of a message.
 */
const WRITE_SCRIPT = `
local changed = 0
for i, key in ipairs(KEYS) do
  local base = (i - 1) * 4
  local t = tonumber(ARGV[base + 1])
  local c = tonumber(ARGV[base + 2])
  local expireAt = tonumber(ARGV[base + 4])
  local cur = redis.call('GET', key)
  local apply = true
  if cur then
    local ct, cc = string.match(cur, '^(%-?[%d.]+)|(%-?[%d.]+)|')
    ct = tonumber(ct)
    cc = tonumber(cc)
    if ct and (t < ct or (t == ct and c < cc)) then apply = false end
  end
  if apply then
    if expireAt > 0 then
      redis.call('SET', key, ARGV[base + 3], 'PXAT', expireAt)
    else
      redis.call('SET', key, ARGV[base + 3])
    end
    changed = changed + 1
  end
end
return changed`;

const CHUNK = 500;

export interface RedisOnlineStoreOptions {
  /** redis://[user:password@]host:port[/db] */
  readonly url: string;
  /** key prefix, so several applications can share one server; default "fs" */
  readonly prefix?: string;
  readonly connectionTimeoutMs?: number;
  /** how long the first connect may take before the open fails (default 10 s) */
  readonly firstConnectWithinMs?: number;
}

export class RedisOnlineStore implements OnlineStore {
  readonly kind = "redis" as const;
  private scriptSha: string | undefined;

  private constructor(
    private readonly client: RedisClient,
    private readonly prefix: string,
  ) {}

  static async open(options: RedisOnlineStoreOptions): Promise<RedisOnlineStore> {
    const client = new RedisClient(options.url, {
      connectionTimeout: options.connectionTimeoutMs ?? 3000,
      // a serving read while Redis is away fails at once (503) instead of queueing behind it
      enableOfflineQueue: false,
      autoReconnect: true,
      maxRetries: 1_000_000,
    });
    // the client reconnects for ever (a running node rides out a Redis restart), so its first
    // connect never settles while Redis is away: bounded here, or a node's start hangs silently
    const withinMs = options.firstConnectWithinMs ?? 10_000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        client.connect(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no connection within ${withinMs} ms`)), withinMs);
        }),
      ]);
    } catch (cause) {
      client.close();
      throw unavailable(`could not connect to Redis at ${addressOf(options.url)}`, cause);
    } finally {
      clearTimeout(timer);
    }
    return new RedisOnlineStore(client, options.prefix ?? "fs");
  }

  private keyOf(view: ViewKey, entity: string): string {
    return `${this.prefix}:${view.name}@${view.version}:${entity}`;
  }

  async write(view: ViewKey, rows: readonly OnlineRow[], options: WriteOptions = {}): Promise<number> {
    const now = options.now ?? Date.now();
    let changed = 0;
    for (let i = 0; i < rows.length; i += CHUNK) {
      const keys: string[] = [];
      const args: string[] = [];
      for (const row of rows.slice(i, i + CHUNK)) {
        const expireAt = options.ttlMs === undefined ? 0 : row.eventTime + options.ttlMs;
        // already expired: storing it would serve nothing, and PXAT in the past deletes the key
        if (options.ttlMs !== undefined && expireAt <= now) continue;
        keys.push(this.keyOf(view, row.entity));
        args.push(
          String(row.eventTime),
          String(row.createdTime),
          `${row.eventTime}|${row.createdTime}|${expireAt}|${JSON.stringify(row.values)}`,
          String(expireAt),
        );
      }
      if (keys.length > 0) changed += Number(await this.runScript(keys, args));
    }
    return changed;
  }

  private async runScript(keys: string[], args: string[]): Promise<unknown> {
    const tail = [String(keys.length), ...keys, ...args];
    try {
      if (this.scriptSha) return await this.client.send("EVALSHA", [this.scriptSha, ...tail]);
    } catch (error) {
      // the server restarted and lost its script cache: load it again below
      if (!(error instanceof Error && error.message.includes("NOSCRIPT")))
        throw unavailable("Redis write failed", error);
    }
    try {
      this.scriptSha = String(await this.client.send("SCRIPT", ["LOAD", WRITE_SCRIPT]));
      return await this.client.send("EVALSHA", [this.scriptSha, ...tail]);
    } catch (cause) {
      throw unavailable("Redis write failed", cause);
    }
  }

  async read(
    view: ViewKey,
    entities: readonly string[],
    now = Date.now(),
  ): Promise<(StoredFeatures | undefined)[]> {
    const out: (StoredFeatures | undefined)[] = [];
    for (let i = 0; i < entities.length; i += CHUNK) {
      const keys = entities.slice(i, i + CHUNK).map((e) => this.keyOf(view, e));
      let values: (string | null)[];
      try {
        values = keys.length === 1 ? [await this.client.get(keys[0]!)] : await this.client.mget(...keys);
      } catch (cause) {
        throw unavailable("Redis read failed", cause);
      }
      for (const value of values) out.push(value === null ? undefined : parseEntry(value, now));
    }
    return out;
  }

  async watermark(name: string): Promise<number | undefined> {
    try {
      const value = await this.client.get(`${this.prefix}:watermark:${name}`);
      return value === null ? undefined : Number(value);
    } catch (cause) {
      throw unavailable("Redis read failed", cause);
    }
  }

  async setWatermark(name: string, value: number): Promise<void> {
    try {
      await this.client.set(`${this.prefix}:watermark:${name}`, String(value));
    } catch (cause) {
      throw unavailable("Redis write failed", cause);
    }
  }

  async dropView(view: ViewKey): Promise<void> {
    await this.unlinkMatching(`${this.prefix}:${globEscape(view.name)}@${view.version}:*`);
  }

  async deleteEntity(viewName: string, entity: string): Promise<number> {
    // every version of the view: `<prefix>:<name>@<version>:<entity>`, the name and entity taken literally
    return this.unlinkMatching(`${this.prefix}:${globEscape(viewName)}@*:${globEscape(entity)}`, (key) =>
      /^[0-9]+$/.test(key.slice(`${this.prefix}:${viewName}@`.length, -(entity.length + 1))),
    );
  }

  /** SCAN + UNLINK of the keys matching a glob (and `keep`, when given); returns how many were unlinked */
  private async unlinkMatching(
    pattern: string,
    keep: (key: string) => boolean = () => true,
  ): Promise<number> {
    let cursor = "0";
    let unlinked = 0;
    try {
      do {
        const [next, keys] = (await this.client.send("SCAN", [
          cursor,
          "MATCH",
          pattern,
          "COUNT",
          "1000",
        ])) as [string, string[]];
        const doomed = keys.filter(keep);
        if (doomed.length > 0) unlinked += Number(await this.client.send("UNLINK", doomed));
        cursor = next;
      } while (cursor !== "0");
    } catch (cause) {
      throw unavailable("Redis delete failed", cause);
    }
    return unlinked;
  }

  async close(): Promise<void> {
    this.client.close();
  }
}

/** a text matched literally inside a Redis glob (`*`, `?`, `[`, `]` and `\\` escaped) */
function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, "\\$&");
}

function parseEntry(text: string, now: number): StoredFeatures | undefined {
  const [event, created, expire] = text.split("|", 3) as [string, string, string | undefined];
  if (expire === undefined)
    throw new PlatformError(
      ErrorCodes.DECODE_FAILED,
      "an online store entry in Redis is not <event>|<created>|<expire>|<json>",
    );
  // PXAT removes the key on the server's clock; the caller's clock decides too, as in the embedded store
  const expireAt = Number(expire);
  if (expireAt > 0 && expireAt <= now) return undefined;
  const values = text.slice(event.length + created.length + expire.length + 3);
  return {
    eventTime: Number(event),
    createdTime: Number(created),
    values: JSON.parse(values) as StoredFeatures["values"],
  };
}

/** host:port of a Redis URL, never its credentials */
function addressOf(url: string): string {
  try {
    const parsed = new URL(url);
    return parsed.host;
  } catch {
    // not a URL Bun's client would take either; its own error says so
    return "an unparseable REDIS_URL";
  }
}

function unavailable(message: string, cause: unknown): PlatformError {
  const reason =
    cause instanceof Error ? cause.message.replace(/redis:\/\/[^\s]*/g, "redis://…") : String(cause);
  return new PlatformError(ErrorCodes.INFRA_UNAVAILABLE, `${message}: ${reason}`, { cause });
}
