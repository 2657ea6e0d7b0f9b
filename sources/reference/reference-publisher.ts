import type { Log, RecordPosition } from "../../log/log.ts";
import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import type { ReferenceKind } from "../../messages/reference-data.ts";

/**
 * Writing reference rows to their compacted topic: validated with the kind's schema, keyed by
 * the row's natural key, timestamped with the time the row became valid (so a versioned table
 * that falls back to the record time agrees with `updated_at`). A bad row is refused before it
 * reaches the log: a reference table is read by every node, one bad row would be seen by all.
 */
export const REFERENCE_PARTITIONS = 3;

const encoder = new TextEncoder();

/** create the compacted topic if it is missing */
export async function ensureReferenceTopic(
  log: Log,
  topic: string,
  partitions = REFERENCE_PARTITIONS,
): Promise<void> {
  await log.createTopic({ name: topic, partitions, compacted: true });
}

export async function publishReferenceRows<V>(
  log: Log,
  topic: string,
  kind: ReferenceKind<V>,
  rows: readonly unknown[],
): Promise<RecordPosition[]> {
  const records = rows.map((row) => {
    const parsed = kind.schema.safeParse(row);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new PlatformError(
        ErrorCodes.SCHEMA_VIOLATION,
        `${kind.name} row refused at ${issue?.path.join(".") || "(root)"}: ${issue?.message ?? "invalid"}`,
        { details: { topic, issues: parsed.error.issues } },
      );
    }
    const validFrom = kind.validFromOf(parsed.data);
    return {
      topic,
      key: kind.keyOf(parsed.data),
      value: encoder.encode(JSON.stringify(parsed.data)),
      ...(Number.isFinite(validFrom) ? { timestamp: validFrom } : {}),
    };
  });
  return records.length === 0 ? [] : log.append(records);
}

/** a tombstone: the key is gone from the table from `at` on */
export async function deleteReferenceRow(
  log: Log,
  topic: string,
  key: string,
  at: number = Date.now(),
): Promise<RecordPosition> {
  const [position] = await log.append([{ topic, key, value: null, timestamp: at }]);
  return position!;
}
