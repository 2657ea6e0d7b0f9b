/**
 * What a consumer does when a fetch meets a corrupt record batch (a CRC that does not match, a
 * record that does not fit its batch).
 *
 * Kafka's consumer throws CorruptRecordException from poll() once the records before the batch
 * are handed out, and again at every poll until the application seeks past it: a corrupt batch
 * is never skipped on the consumer's own say. Ours does the same, with one difference: the batch
 * is fetched again CORRUPT_BATCH_REFETCHES times first, since corruption on the way (a NIC, a
 * proxy) heals on the next fetch while corruption in the broker's log does not. Every fetch that
 * meets one is counted (platform_log_corrupt_batches_total). Nothing in a corrupt batch can be
 * dead-lettered: past a CRC mismatch no byte of it, key or offset, can be trusted.
 */
export const CORRUPT_BATCH_REFETCHES = 2;

export interface CorruptBatchVerdict {
  /** fetches in a row that met the batch, this one included (0 once the poll fails) */
  readonly fetchesInARow: number;
  /** the poll fails with the batch's LOG_BATCH_CORRUPT error */
  readonly fail: boolean;
}

/**
 * `fetchesInARow` before this fetch; `movedBefore` when whole batches before the corrupt one
 * moved the position this fetch (so it is the first to start at the corrupt batch)
 */
export function corruptBatchVerdict(fetchesInARow: number, movedBefore: boolean): CorruptBatchVerdict {
  const count = movedBefore ? 1 : fetchesInARow + 1;
  if (count <= CORRUPT_BATCH_REFETCHES) return { fetchesInARow: count, fail: false };
  // the next poll after the failure fetches it again, as Kafka's consumer does
  return { fetchesInARow: 0, fail: true };
}
