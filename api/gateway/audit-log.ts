import { z } from "zod";
import type { Log } from "../../log/log.ts";
import { Topics } from "../../messages/topics.ts";
import type { PageRequest } from "../pagination.ts";

/**
 * The audit trail: one record per state-changing API call (every method but GET, HEAD and
 * OPTIONS), refused ones included, appended to `platform.audit` before the caller gets the
 * answer. A record says who (the principal's subject and role, never a credential), what (method
 * and path, without the query string, which may carry a token), when, from where (the socket's
 * address) and the result (the HTTP status and an outcome word). Read back newest first through
 * `GET /api/audit` (admin only).
 */
export const AuditRecord = z.strictObject({
  time: z.number().int(),
  actor: z.string(),
  role: z.string().nullable(),
  via: z.string().nullable(),
  method: z.string(),
  path: z.string(),
  address: z.string().nullable(),
  status: z.number().int(),
  outcome: z.enum(["done", "denied", "refused", "failed"]),
});
export type AuditRecord = z.infer<typeof AuditRecord>;

export function outcomeOf(status: number): AuditRecord["outcome"] {
  if (status === 401 || status === 403) return "denied";
  if (status >= 500) return "failed";
  if (status >= 400) return "refused";
  return "done";
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class AuditLog {
  private constructor(
    private readonly log: Log,
    private readonly topic: string,
  ) {}

  static async open(log: Log, topic: string = Topics.audit): Promise<AuditLog> {
    await log.createTopic({ name: topic, partitions: 1 });
    return new AuditLog(log, topic);
  }

  async record(entry: AuditRecord): Promise<void> {
    await this.log.append([
      { topic: this.topic, key: entry.actor, value: encoder.encode(JSON.stringify(entry)), partition: 0 },
    ]);
  }

  /** newest first; `offset` counts back from the newest record */
  async read(page: PageRequest): Promise<{ records: AuditRecord[]; total: number }> {
    const partition = { topic: this.topic, partition: 0 };
    const end = await this.log.endOffset(partition);
    // retention may have deleted the oldest records: the first one still there bounds the total
    const first = (await this.log.read(partition, { fromOffset: 0, maxRecords: 1 }))[0]?.offset ?? end;
    const total = end - first;
    const upTo = end - page.offset;
    const from = Math.max(first, upTo - page.limit);
    if (upTo <= from) return { records: [], total };
    const found = await this.log.read(partition, { fromOffset: from, maxRecords: upTo - from });
    const records: AuditRecord[] = [];
    for (const record of found) {
      if (record.offset >= upTo || record.value === null) continue;
      const parsed = AuditRecord.safeParse(parseJson(decoder.decode(record.value)));
      // a record that is not ours (someone wrote to the topic directly) is left out, not fatal
      if (parsed.success) records.push(parsed.data);
    }
    return { records: records.reverse(), total };
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    if (error instanceof SyntaxError) return undefined;
    throw error;
  }
}
