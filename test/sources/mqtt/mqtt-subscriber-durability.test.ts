import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import mqtt from "mqtt";
import { openLog } from "../../../log/index.ts";
import { runTopic, testBrokers } from "./real-brokers.ts";

/**
 * "Acknowledged" means the broker's PUBACK to the publisher. Everything the broker acknowledged
 * must reach the log even when the ingest process is killed with SIGKILL in the middle of the
 * stream: the subscriber PUBACKs only after the append is durable, and its persistent session
 * keeps the rest at the broker for the restarted process. A kill between the append and the
 * PUBACK redelivers a message already in the log: duplicates are bounded by one batch in flight.
 */
const ACKED_TOPIC = "acked-readings";
const TOTAL = 3000;
const MAX_BATCH = 100;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface IngestProcess {
  readonly proc: Subprocess;
  readonly ready: Promise<void>;
  /** resolves at the next "batch" line the process prints */
  nextBatch(): Promise<void>;
}

function spawnIngest(args: string[]): IngestProcess {
  const proc = Bun.spawn([process.execPath, join(import.meta.dir, "ingest-process.ts"), ...args], {
    stdout: "pipe",
    stderr: "inherit",
  });
  const waiters: (() => void)[] = [];
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });
  void (async () => {
    const decoder = new TextDecoder();
    let text = "";
    for await (const chunk of proc.stdout as ReadableStream<Uint8Array>) {
      text += decoder.decode(chunk, { stream: true });
      const lines = text.split("\n");
      text = lines.pop()!;
      for (const line of lines) {
        if (line === "ready") markReady();
        if (line === "batch") for (const w of waiters.splice(0)) w();
      }
    }
  })();
  return {
    proc,
    ready,
    nextBatch: () => new Promise<void>((resolve) => waiters.push(resolve)),
  };
}

async function loggedPayloads(logPath: string): Promise<string[]> {
  const log = await openLog({ kind: "embedded", path: logPath });
  try {
    const out: string[] = [];
    for (let offset = 0; ; ) {
      const records = await log.read(
        { topic: ACKED_TOPIC, partition: 0 },
        { fromOffset: offset, maxRecords: 5000 },
      );
      if (records.length === 0) return out;
      for (const r of records) out.push(new TextDecoder().decode(r.value!));
      offset = records.at(-1)!.offset + 1;
    }
  } finally {
    await log.close();
  }
}

describe.each(testBrokers.map((b) => [b.name, b] as const))(
  "MQTT subscriber durability on %s",
  (_, broker) => {
    test("kill -9 of the ingest process mid-stream loses none of the readings the broker acknowledged", async () => {
      const running = await broker.start();
      cleanups.push(() => running.stop());
      const dir = mkdtempSync(join(tmpdir(), "mqtt-kill-"));
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      const topic = runTopic("kill");
      const args = [
        running.url,
        `${topic.split("/").at(-1)}-ingest`,
        `${topic}/#`,
        join(dir, "log.db"),
        String(broker.protocolVersion),
        "50",
      ];
      let ingest = spawnIngest(args);
      cleanups.push(() => void ingest.proc.kill("SIGKILL"));
      await ingest.ready;

      const publisher = await mqtt.connectAsync(running.url, { reconnectPeriod: 100 });
      cleanups.push(() => publisher.endAsync(true));
      const acked: string[] = [];
      const publishing = (async () => {
        for (let i = 0; i < TOTAL; i += 20) {
          const window = Array.from({ length: Math.min(20, TOTAL - i) }, (_, j) => String(i + j));
          await Promise.all(
            window.map(async (id) => {
              await publisher.publishAsync(`${topic}/s${Number(id) % 7}`, id, { qos: 1 });
              acked.push(id);
            }),
          );
        }
      })();
      // kill while a batch is received but not yet appended, then start again
      while (acked.length < TOTAL / 3) await Bun.sleep(5);
      await ingest.nextBatch();
      ingest.proc.kill("SIGKILL");
      await ingest.proc.exited;
      const ackedWhileDown = acked.length;
      while (acked.length < Math.min(TOTAL, ackedWhileDown + TOTAL / 3)) await Bun.sleep(5);
      ingest = spawnIngest(args);
      await ingest.ready;
      await publishing;
      expect(acked.length).toBe(TOTAL);

      const deadline = Date.now() + 30_000;
      let logged: string[] = [];
      for (;;) {
        logged = await loggedPayloads(join(dir, "log.db"));
        if (new Set(logged).size >= TOTAL || Date.now() > deadline) break;
        await Bun.sleep(200);
      }
      const inLog = new Set(logged);
      const missing = acked.filter((id) => !inLog.has(id));
      const duplicates = logged.length - inLog.size;
      console.log(
        `${broker.name}: ${acked.length} acknowledged, ${missing.length} missing, ${duplicates} duplicates after kill -9`,
      );
      expect(missing).toEqual([]);
      expect(inLog.size).toBe(TOTAL);
      // a SIGKILL may also discard PUBACKs still in the socket buffer: a batch or two again
      expect(duplicates).toBeLessThanOrEqual(2 * MAX_BATCH);
    }, 90_000);
  },
);
