import { describe, expect, test } from "bun:test";
import { inProcessHosts } from "../../engine/in-process-hosts.ts";
import type { PartitionHostSetup } from "../../engine/partition-host-setup.ts";
import type { SensorReadingRecord } from "../../messages/codec/sensor-reading-record.ts";
import type { DeadLetter } from "../../messages/dead-letter.ts";
import type { HostOutput } from "../../messages/host-protocol.ts";

/**
 * Issue 7 §2 with one window actor per sensor type and partition (actors/window/
 * partition-windows.ts): a burst of new sensor ids on one partition. Each new sensor's actor takes
 * its reading and tells the partition's one window actor, whose mailbox (65,536) now holds the
 * readings of every sensor of the partition, where each per-sensor window actor held its own.
 * A burst larger than that mailbox had its overflow refused and dead-lettered as MAILBOX_FULL
 * ("reading not windowed"): readings the sensor actors scored, missing from every window (at
 * 60,000 new keys under load: 2,656 and 6,752 of them in two runs). A whole node does not reach
 * it today only because its dispatcher keeps at most 64 batches of 1,000 records in flight
 * (engine/dispatcher.ts), 64,000 readings, 1,536 under the mailbox: a bound no test states, that
 * a larger poll or more batches in flight would cross.
 * Every reading must be in its window: at the watermark, one final window per sensor, each
 * counting its one reading, and no dead letter. The same burst through the tree before the
 * partition window actor (3fe6e54) windowed every reading.
 */
const KEYS = 80_000;

const setup: PartitionHostSetup = {
  window: { kind: "tumbling", sizeMs: 60_000 },
  anomalyDetector: "robust-z",
  graceMs: 5_000,
  maxOutOfOrdernessMs: 2_000,
  idleTimeoutMs: 10_000,
  sensorIntervalMs: 3_000,
  utcOffsetMinutes: 0,
  tickMs: 1_000,
  passivateAfterMs: 60_000,
};

async function until(what: string, done: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(20);
  }
}

describe("a burst of new sensor ids on one partition", () => {
  // fixed by backpressure: a sensor actor whose window actor is full waits for room (offer)
  test(`${KEYS} new sensors' readings each reach their window, none refused by the partition's window mailbox`, async () => {
    // the default ring (1 MiB): the host moves the ring's readings into its actors' mailboxes as
    // they come, so a burst collects in the actors whatever the ring's size
    const shards = inProcessHosts(setup);
    let readings = 0;
    let marks = 0;
    const counted = new Map<string, number>();
    const deadLetters: DeadLetter[] = [];
    shards.onOutput((output: HostOutput) => {
      if (output.type === "reading") readings++;
      else if (output.type === "mark") marks++;
      else if (output.type === "dead-letter") deadLetters.push(output.deadLetter);
      else if (output.type === "window" && output.window.final)
        counted.set(output.window.key, (counted.get(output.window.key) ?? 0) + output.window.count);
    });
    try {
      const eventTime = Math.floor(Date.now() / 60_000) * 60_000 - 60_000 + 1_000;
      for (let i = 0; i < KEYS; i++) {
        const reading: SensorReadingRecord = {
          sensorType: "traffic",
          sensorId: `burst_${i}`,
          partition: 0,
          offset: i,
          eventTime,
          ingestedAt: Date.now(),
          values: [20 + (i % 50), 40 + (i % 30)],
          flags: 0,
        };
        while (!shards.sendReading(0, reading)) {
          shards.flush();
          await shards.waitForSpace(0, 100);
        }
      }
      shards.flush();
      await until("every sensor's reading", () => readings === KEYS);
      // the node's watermark passes the window's end and grace: every sensor's window closes
      shards.sendControl(0, { type: "mark", batch: 1, checkpoint: false, watermark: eventTime + 120_000 });
      shards.flush();
      await until("the mark", () => marks === 1);
      expect(deadLetters.map((d) => d.code).slice(0, 3)).toEqual([]);
      expect(counted.size).toBe(KEYS);
      expect([...counted.values()].every((count) => count === 1)).toBe(true);
    } finally {
      await shards.stop();
    }
  }, 180_000);
});
