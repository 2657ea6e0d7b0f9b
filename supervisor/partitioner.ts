import { ErrorCodes, PlatformError } from "../messages/errors.ts";
import { partitionFor } from "../messages/murmur2.ts";

/**
 * Partition -> worker placement.
 *
 * Contiguous ranges, as Kafka's RangeAssignor divides a topic's partitions among consumers:
 * worker `w` owns partitions `[floor(w * P / W), floor((w + 1) * P / W))`. Range sizes differ by
 * at most one, exactly as balanced as modulo; but a worker's share is one interval, so ownership
 * is two comparisons, logs read "worker 1 owns 4..7", and the layout matches what a Kafka range
 * assignment hands this node. With fewer partitions than workers some workers own nothing.
 */

function checkShape(partitions: number, workers: number): void {
  if (!Number.isInteger(partitions) || partitions < 1 || !Number.isInteger(workers) || workers < 1) {
    throw new PlatformError(ErrorCodes.CONFIG_INVALID, "partitions and workers must be positive integers", {
      details: { partitions, workers },
    });
  }
}

/** The worker index that owns `partition` (0 <= partition < partitions). */
export function workerFor(partition: number, partitions: number, workers: number): number {
  // inverse of the range start floor(w * P / W): the largest w with start(w) <= partition
  return Math.floor(((partition + 1) * workers - 1) / partitions);
}

/** The first partition and one past the last partition owned by `worker`. */
export function partitionRangeOf(worker: number, partitions: number, workers: number): [number, number] {
  checkShape(partitions, workers);
  return [Math.floor((worker * partitions) / workers), Math.floor(((worker + 1) * partitions) / workers)];
}

/** The partitions owned by `worker`, ascending. */
export function partitionsOf(worker: number, partitions: number, workers: number): number[] {
  const [from, to] = partitionRangeOf(worker, partitions, workers);
  const owned: number[] = [];
  for (let p = from; p < to; p++) owned.push(p);
  return owned;
}

/** Where a key lives: its Kafka partition and the worker that owns that partition. */
export interface KeyHome {
  readonly partition: number;
  readonly worker: number;
}

/** The home of `key` for a fixed number of partitions and workers. */
export class Partitioner {
  constructor(
    readonly partitions: number,
    readonly workers: number,
  ) {
    checkShape(partitions, workers);
  }

  partitionOf(key: string): number {
    return partitionFor(key, this.partitions);
  }

  workerOf(key: string): number {
    return workerFor(partitionFor(key, this.partitions), this.partitions, this.workers);
  }

  homeOf(key: string): KeyHome {
    const partition = partitionFor(key, this.partitions);
    return { partition, worker: workerFor(partition, this.partitions, this.workers) };
  }
}
