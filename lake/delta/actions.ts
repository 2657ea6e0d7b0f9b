import { z } from "zod";

/**
 * The actions of a Delta commit (Delta PROTOCOL.md, "Actions"). A commit file
 * `_delta_log/<version, 20 digits>.json` holds one action per line, each a JSON object with a
 * single key naming the action. Readers skip actions they do not know (cdc, domainMetadata, ...)
 * as the protocol asks; the schemas below are passthrough so a checkpoint keeps what another
 * writer put there.
 */

const stringMap = z.record(z.string(), z.string().nullable());

export const ProtocolAction = z
  .object({
    minReaderVersion: z.number().int().positive(),
    minWriterVersion: z.number().int().positive(),
    readerFeatures: z.array(z.string()).nullish(),
    writerFeatures: z.array(z.string()).nullish(),
  })
  .loose();
export type ProtocolAction = z.infer<typeof ProtocolAction>;

export const MetadataAction = z
  .object({
    id: z.string(),
    name: z.string().nullish(),
    description: z.string().nullish(),
    format: z.object({ provider: z.string(), options: stringMap.nullish() }).loose(),
    schemaString: z.string(),
    partitionColumns: z.array(z.string()),
    configuration: stringMap.nullish(),
    createdTime: z.number().nullish(),
  })
  .loose();
export type MetadataAction = z.infer<typeof MetadataAction>;

export const AddAction = z
  .object({
    path: z.string().min(1),
    partitionValues: stringMap,
    size: z.number().nonnegative(),
    modificationTime: z.number(),
    dataChange: z.boolean(),
    /** JSON text: numRecords, minValues, maxValues, nullCount */
    stats: z.string().nullish(),
    tags: stringMap.nullish(),
    deletionVector: z.unknown().optional(),
  })
  .loose();
export type AddAction = z.infer<typeof AddAction>;

export const RemoveAction = z
  .object({
    path: z.string().min(1),
    deletionTimestamp: z.number().nullish(),
    dataChange: z.boolean(),
    extendedFileMetadata: z.boolean().nullish(),
    partitionValues: stringMap.nullish(),
    size: z.number().nullish(),
  })
  .loose();
export type RemoveAction = z.infer<typeof RemoveAction>;

/** An application's transaction id: the exactly-once marker of a sink's micro-batch. */
export const TxnAction = z
  .object({
    appId: z.string().min(1),
    version: z.number().int(),
    lastUpdated: z.number().nullish(),
  })
  .loose();
export type TxnAction = z.infer<typeof TxnAction>;

export const CommitInfoAction = z
  .object({
    timestamp: z.number().nullish(),
    operation: z.string().nullish(),
    operationParameters: z.record(z.string(), z.unknown()).nullish(),
    operationMetrics: z.record(z.string(), z.unknown()).nullish(),
    readVersion: z.number().nullish(),
    isBlindAppend: z.boolean().nullish(),
  })
  .loose();
export type CommitInfoAction = z.infer<typeof CommitInfoAction>;

export type Action =
  | { protocol: ProtocolAction }
  | { metaData: MetadataAction }
  | { add: AddAction }
  | { remove: RemoveAction }
  | { txn: TxnAction }
  | { commitInfo: CommitInfoAction };

const actionSchemas = {
  protocol: ProtocolAction,
  metaData: MetadataAction,
  add: AddAction,
  remove: RemoveAction,
  txn: TxnAction,
  commitInfo: CommitInfoAction,
} as const;

/**
 * One parsed line of a commit, or undefined for an action this reader does not need (the
 * protocol's "unknown actions are ignored"). Throws the zod error of a known action that is
 * malformed: the caller turns it into DELTA_LOG_CORRUPT with the file it came from.
 */
export function parseAction(line: unknown): Action | undefined {
  if (typeof line !== "object" || line === null || Array.isArray(line)) {
    throw new Error("an action must be a JSON object");
  }
  for (const [key, value] of Object.entries(line)) {
    if (value === null || value === undefined) continue;
    const schema = actionSchemas[key as keyof typeof actionSchemas];
    if (schema === undefined) continue;
    return { [key]: schema.parse(value) } as Action;
  }
  return undefined;
}

/** The statistics of a data file (PROTOCOL.md "Per-file Statistics"), as written in `add.stats`. */
export interface FileStats {
  numRecords: number;
  minValues: Record<string, unknown>;
  maxValues: Record<string, unknown>;
  nullCount: Record<string, number>;
}
