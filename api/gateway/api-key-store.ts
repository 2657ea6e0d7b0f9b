import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import type { Log } from "../../log/log.ts";
import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import { Topics } from "../../messages/topics.ts";
import { ROLES, type Role } from "./roles.ts";

/**
 * API keys, kept in the compacted topic `platform.api-keys` so that every node of an application
 * (and the `bun run keys` CLI) shares them.
 *
 * A key is `smp_<id>_<secret>`: `id` is 12 hex characters, visible, used to find the record and
 * to name the key in the audit log; `secret` is 32 random bytes (base64url). Only SHA-256 of the
 * whole key is stored, so the topic never holds a usable credential: a slow hash (bcrypt,
 * argon2) protects low-entropy passwords, while a 256-bit random secret is already beyond
 * guessing, and a fast hash keeps a check per request cheap. The key is shown once, at creation.
 *
 * The record keyed by `id` is the key's latest state; revoking writes the record again with
 * `revoked_at` (kept, not tombstoned, so the audit trail can still name the key). Each node
 * re-reads the topic every `refreshMs`, so a key created or revoked on one node reaches the
 * others within that time.
 */
export const API_KEY_PREFIX = "smp_";
const KEY_SHAPE = /^smp_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

export const ApiKeyRecord = z.strictObject({
  id: z.string().regex(/^[0-9a-f]{12}$/),
  name: z.string().min(1).max(100),
  role: z.enum(ROLES),
  /** hex SHA-256 of the whole key */
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  created_at: z.number().int(),
  revoked_at: z.number().int().nullable(),
});
export type ApiKeyRecord = z.infer<typeof ApiKeyRecord>;

/** what the API and the CLI show of a key: everything but its hash */
export type ApiKeyInfo = Omit<ApiKeyRecord, "hash">;

export interface ApiKeyStoreOptions {
  readonly topic?: string;
  /** how often the topic is re-read for keys created or revoked elsewhere; default 1000 ms */
  readonly refreshMs?: number;
  readonly now?: () => number;
  /** a failed re-read (the log is down): reported, retried at the next refresh */
  readonly onError?: (error: unknown) => void;
  /** a record that does not parse: skipped and reported */
  readonly onInvalid?: (offset: number) => void;
  /** keys not revoked at once, past which a create is refused (default 10,000) */
  readonly maxActiveKeys?: number;
}

export const DEFAULT_MAX_ACTIVE_KEYS = 10_000;

const READ_BATCH = 500;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

export function hashApiKey(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}

/** same length hex digests compared in constant time */
export function sameDigest(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

export function looksLikeApiKey(text: string): boolean {
  return text.startsWith(API_KEY_PREFIX);
}

export class ApiKeyStore {
  private readonly keys = new Map<string, ApiKeyRecord>();
  private nextOffset = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;
  private reading: Promise<void> = Promise.resolve();
  private readonly now: () => number;

  private constructor(
    private readonly log: Log,
    private readonly topic: string,
    private readonly options: ApiKeyStoreOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  /** creates the topic if missing, reads it to its end, then follows it */
  static async open(log: Log, options: ApiKeyStoreOptions = {}): Promise<ApiKeyStore> {
    const topic = options.topic ?? Topics.apiKeys;
    await log.createTopic({ name: topic, partitions: 1, compacted: true });
    const store = new ApiKeyStore(log, topic, options);
    await store.refresh();
    store.schedule();
    return store;
  }

  private schedule(): void {
    if (this.closed) return;
    this.timer = setTimeout(() => {
      this.refresh()
        .catch((error: unknown) => this.options.onError?.(error))
        .finally(() => this.schedule());
    }, this.options.refreshMs ?? 1000);
  }

  /** reads what was appended since the last read (one read at a time) */
  refresh(): Promise<void> {
    const run = async () => {
      const end = await this.log.endOffset({ topic: this.topic, partition: 0 });
      while (this.nextOffset < end) {
        const batch = await this.log.read(
          { topic: this.topic, partition: 0 },
          { fromOffset: this.nextOffset, maxRecords: READ_BATCH },
        );
        if (batch.length === 0) break;
        for (const record of batch) {
          this.apply(record.offset, record.value);
          this.nextOffset = record.offset + 1;
        }
      }
    };
    const next = this.reading.then(run, run);
    this.reading = next.catch(() => undefined);
    return next;
  }

  private apply(offset: number, value: Uint8Array | null): void {
    if (value === null) return;
    let parsed: ReturnType<typeof ApiKeyRecord.safeParse>;
    try {
      parsed = ApiKeyRecord.safeParse(JSON.parse(decoder.decode(value)));
    } catch (error) {
      if (!(error instanceof SyntaxError) && !(error instanceof TypeError)) throw error;
      this.options.onInvalid?.(offset);
      return;
    }
    if (!parsed.success) {
      this.options.onInvalid?.(offset);
      return;
    }
    this.keys.set(parsed.data.id, parsed.data);
  }

  /** a new key; the returned `key` is the only time the secret exists outside the caller */
  async create(name: string, role: Role): Promise<{ key: string; info: ApiKeyInfo }> {
    // every key lives in memory on every node and is listed whole: a loop of creates must end
    const max = this.options.maxActiveKeys ?? DEFAULT_MAX_ACTIVE_KEYS;
    let active = 0;
    for (const record of this.keys.values()) if (record.revoked_at === null) active++;
    if (active >= max)
      throw new PlatformError(
        ErrorCodes.OUT_OF_RANGE,
        `at most ${max} API keys may be active at once; revoke one first`,
      );
    const trimmed = name.trim();
    if (trimmed.length === 0 || trimmed.length > 100)
      throw new PlatformError(ErrorCodes.BAD_REQUEST, "a key's name is 1 to 100 characters");
    const id = randomBytes(6).toString("hex");
    const key = `${API_KEY_PREFIX}${id}_${randomBytes(32).toString("base64url")}`;
    const record: ApiKeyRecord = {
      id,
      name: trimmed,
      role,
      hash: hashApiKey(key),
      created_at: this.now(),
      revoked_at: null,
    };
    await this.write(record);
    return { key, info: infoOf(record) };
  }

  /** revokes a key at once on this node, within `refreshMs` on the others */
  async revoke(id: string): Promise<ApiKeyInfo> {
    await this.refresh();
    const record = this.keys.get(id);
    if (!record) throw new PlatformError(ErrorCodes.NOT_FOUND, `no API key '${id.slice(0, 40)}'`);
    if (record.revoked_at !== null) return infoOf(record);
    const revoked = { ...record, revoked_at: this.now() };
    await this.write(revoked);
    return infoOf(revoked);
  }

  private async write(record: ApiKeyRecord): Promise<void> {
    await this.log.append([
      { topic: this.topic, key: record.id, value: encoder.encode(JSON.stringify(record)), partition: 0 },
    ]);
    this.keys.set(record.id, record);
  }

  /** the key's record if the key is known and not revoked */
  verify(presented: string): ApiKeyInfo | undefined {
    const shape = KEY_SHAPE.exec(presented);
    if (!shape) return undefined;
    const record = this.keys.get(shape[1]!);
    if (!record || record.revoked_at !== null) return undefined;
    return sameDigest(hashApiKey(presented), record.hash) ? infoOf(record) : undefined;
  }

  list(): ApiKeyInfo[] {
    return [...this.keys.values()].map(infoOf).sort((a, b) => a.created_at - b.created_at);
  }

  hasActiveKeys(): boolean {
    for (const record of this.keys.values()) if (record.revoked_at === null) return true;
    return false;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.reading;
  }
}

function infoOf({ hash: _hash, ...info }: ApiKeyRecord): ApiKeyInfo {
  return info;
}
