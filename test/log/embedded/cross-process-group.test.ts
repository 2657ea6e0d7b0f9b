import { afterEach, beforeEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { type EmbeddedLog, openEmbeddedLog } from "../../../log/embedded/index.ts";
import type { Consumer } from "../../../log/log.ts";

const TOPIC = "shared";
const GROUP = "cluster";

/** the child's stdout as lines, collected in the background */
function linesOf(stdout: ReadableStream<Uint8Array>): { lines: string[]; done: Promise<void> } {
  const lines: string[] = [];
  const done = (async () => {
    const decoder = new TextDecoder();
    let buffered = "";
    for await (const chunk of stdout) {
      buffered += decoder.decode(chunk, { stream: true });
      const parts = buffered.split("\n");
      buffered = parts.pop()!;
      lines.push(...parts);
    }
  })();
  return { lines, done };
}

const lastAssignment = (lines: string[]): number[] | undefined => {
  const line = lines.findLast((l) => l.startsWith("assignment "));
  return line === undefined ? undefined : (JSON.parse(line.slice("assignment ".length)) as number[]);
};

async function pollUntil(
  consumer: Consumer,
  done: () => boolean,
  what: string,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await consumer.poll({ timeoutMs: 50 });
  }
}

let dir: string;
let log: EmbeddedLog;
let child: Subprocess<"ignore", "pipe", "inherit"> | undefined;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "embedded-group-"));
  log = openEmbeddedLog({
    path: join(dir, "log.db"),
    heartbeatIntervalMs: 100,
    sessionTimeoutMs: 1500,
    maintenanceIntervalMs: 0,
  });
  await log.createTopic({ name: TOPIC, partitions: 4 });
});
afterEach(async () => {
  child?.kill("SIGKILL");
  await child?.exited;
  await log.close();
  rmSync(dir, { recursive: true, force: true });
});

function startChild() {
  child = Bun.spawn(
    ["bun", join(import.meta.dir, "group-member-process.ts"), join(dir, "log.db"), TOPIC, GROUP],
    {
      stdout: "pipe",
      stderr: "inherit",
    },
  );
  return linesOf(child.stdout);
}

test("two processes on one log file split a group's partitions, and a killed member's partitions move after its session times out", async () => {
  const output = startChild();
  const deadline = Date.now() + 20_000;
  while (lastAssignment(output.lines)?.length !== 4 && Date.now() < deadline) await Bun.sleep(20);
  expect(lastAssignment(output.lines)).toEqual([0, 1, 2, 3]);

  const member = log.consumer({ groupId: GROUP, topics: [TOPIC], memberId: "parent" });
  await pollUntil(
    member,
    () => member.assignment().length === 2 && lastAssignment(output.lines)?.length === 2,
    "the processes to split the partitions",
  );
  const mine = member.assignment().map((tp) => tp.partition);
  expect([...mine, ...lastAssignment(output.lines)!].sort()).toEqual([0, 1, 2, 3]);

  // records reach the process that owns their partition, and only that one
  const positions = await log.append(
    Array.from({ length: 40 }, (_, i) => ({ topic: TOPIC, key: `k${i}`, value: null })),
  );
  const got: string[] = [];
  const childRecords = () =>
    output.lines.filter((line) => line.startsWith("record ")).map((line) => line.slice(7));
  const readDeadline = Date.now() + 20_000;
  while (got.length + childRecords().length < 40 && Date.now() < readDeadline) {
    for (const record of await member.poll({ timeoutMs: 50 }))
      got.push(`${record.partition}:${record.offset}`);
  }
  expect([...got, ...childRecords()].sort()).toEqual(
    positions.map((p) => `${p.partition}:${p.offset}`).sort(),
  );
  for (const position of got) expect(mine).toContain(Number(position.split(":")[0]));

  child!.kill("SIGKILL");
  await child!.exited;
  const killedAt = Date.now();
  await pollUntil(member, () => member.assignment().length === 4, "the survivor to take every partition");
  expect(Date.now() - killedAt).toBeGreaterThanOrEqual(1000);
  await member.close();
}, 60_000);

test("a process that stops gracefully hands its partitions over at once", async () => {
  const output = startChild();
  const member = log.consumer({ groupId: GROUP, topics: [TOPIC], memberId: "parent" });
  await pollUntil(
    member,
    () => member.assignment().length === 2 && lastAssignment(output.lines)?.length === 2,
    "the processes to split the partitions",
  );
  child!.kill("SIGTERM");
  await child!.exited;
  await output.done;
  expect(output.lines).toContain("closed");
  const stoppedAt = Date.now();
  await pollUntil(member, () => member.assignment().length === 4, "the survivor to take every partition");
  expect(Date.now() - stoppedAt).toBeLessThan(1000);
  await member.close();
}, 60_000);
