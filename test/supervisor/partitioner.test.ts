import { describe, expect, test } from "bun:test";
import { isPlatformError } from "../../messages/errors.ts";
import { partitionFor } from "../../messages/murmur2.ts";
import { Partitioner, partitionRangeOf, partitionsOf, workerFor } from "../../supervisor/partitioner.ts";

describe("partitioner", () => {
  test.each([
    [12, 2, [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1]],
    [12, 5, [0, 0, 1, 1, 2, 2, 2, 3, 3, 4, 4, 4]],
    [3, 3, [0, 1, 2]],
    [2, 4, [1, 3]],
    [1, 1, [0]],
  ])("%i partitions over %i workers map to contiguous ranges %p", (partitions, workers, expected) => {
    const mapped = Array.from({ length: partitions }, (_, p) => workerFor(p, partitions, workers));
    expect(mapped).toEqual(expected);
  });

  test("workerFor and partitionsOf agree and every partition has exactly one owner", () => {
    for (let partitions = 1; partitions <= 40; partitions++) {
      for (let workers = 1; workers <= 9; workers++) {
        const seen: number[] = [];
        for (let w = 0; w < workers; w++) {
          const owned = partitionsOf(w, partitions, workers);
          for (const p of owned) expect(workerFor(p, partitions, workers)).toBe(w);
          seen.push(...owned);
          const size = owned.length;
          expect(Math.abs(size - partitions / workers) < 1).toBe(true);
        }
        expect(seen).toEqual(Array.from({ length: partitions }, (_, p) => p));
      }
    }
  });

  test("a key's home is its Kafka partition and that partition's worker", () => {
    const partitioner = new Partitioner(12, 2);
    for (const key of ["traffic_1", "environment_7", "utility_42", "21"]) {
      const home = partitioner.homeOf(key);
      expect(home.partition).toBe(partitionFor(key, 12));
      expect(home.worker).toBe(workerFor(home.partition, 12, 2));
      expect(partitioner.workerOf(key)).toBe(home.worker);
    }
  });

  test("rejects a non-positive number of partitions or workers with CONFIG_INVALID", () => {
    expect(() => new Partitioner(0, 2)).toThrow();
    try {
      partitionRangeOf(0, 12, 0);
      throw new Error("expected a throw");
    } catch (error) {
      expect(isPlatformError(error, "CONFIG_INVALID")).toBe(true);
    }
  });
});
