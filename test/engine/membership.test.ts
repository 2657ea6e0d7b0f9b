import { afterEach, beforeEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startMembership } from "../../engine/membership.ts";
import { openLog } from "../../log/index.ts";
import type { Log } from "../../log/log.ts";
import type { PlatformError } from "../../messages/errors.ts";

const APP = "membership-test";
const TOPIC = `${APP}.members`;
const encode = (s: string) => new TextEncoder().encode(s);
const announcement = (member: string, partitions: number[], at: number) =>
  encode(JSON.stringify({ member, api: `http://127.0.0.1/${member}`, partitions, at }));

let dir: string;
let log: Log;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "membership-"));
  log = await openLog({ kind: "embedded", path: join(dir, "log.db") });
  await log.createTopic({ name: TOPIC, partitions: 1, compacted: true });
});
afterEach(async () => {
  await log.close();
  rmSync(dir, { recursive: true, force: true });
});

// Each is skipped and counted; none stops the valid announcement after it from being applied.
const malformed: Array<[string, Uint8Array]> = [
  ["not JSON", encode("{not json")],
  ["JSON of the wrong shape", encode(JSON.stringify({ member: "x", partitions: "all" }))],
  ["a negative partition", encode(JSON.stringify({ member: "x", api: "a", partitions: [-1], at: 1 }))],
  ["not UTF-8 JSON at all", new Uint8Array([0xff, 0xfe, 0x00])],
];

test("a malformed member announcement is counted, reported once, and does not hide the valid ones", async () => {
  await log.append([
    ...malformed.map(([name, value]) => ({ topic: TOPIC, key: `bad-${name}`, value })),
    { topic: TOPIC, key: "node-b", value: announcement("node-b", [2, 3], 100) },
  ]);
  const reported: PlatformError[] = [];
  const membership = await startMembership({
    log,
    applicationId: APP,
    apiUrl: "http://127.0.0.1:1",
    partitions: 4,
    pollMs: 5,
    onFirstMalformed: (error) => reported.push(error),
  });
  try {
    expect(membership.stats().malformedAnnouncements).toBe(malformed.length);
    expect(reported).toHaveLength(1);
    expect(reported[0]!.code).toBe("DECODE_FAILED");
    expect(reported[0]!.message).toContain(TOPIC);
    expect(membership.ownerOf(2)?.member).toBe("node-b");

    // more of them arriving later, read by the follower: counted, still reported only once
    await log.append([
      { topic: TOPIC, key: "bad-later", value: encode("[]") },
      { topic: TOPIC, key: "node-c", value: announcement("node-c", [0], 200) },
    ]);
    for (let i = 0; i < 2000 && membership.ownerOf(0)?.member !== "node-c"; i++) await Bun.sleep(5);
    expect(membership.ownerOf(0)?.member).toBe("node-c");
    expect(membership.stats().malformedAnnouncements).toBe(malformed.length + 1);
    expect(reported).toHaveLength(1);
  } finally {
    await membership.stop();
  }
});

test("a members topic with only valid announcements counts no malformed ones", async () => {
  await log.append([{ topic: TOPIC, key: "node-b", value: announcement("node-b", [1], 100) }]);
  const reported: PlatformError[] = [];
  const membership = await startMembership({
    log,
    applicationId: APP,
    apiUrl: "http://127.0.0.1:1",
    partitions: 4,
    pollMs: 5,
    onFirstMalformed: (error) => reported.push(error),
  });
  try {
    expect(membership.stats()).toEqual({ malformedAnnouncements: 0 });
    expect(reported).toHaveLength(0);
    expect(membership.ownerOf(1)?.member).toBe("node-b");
  } finally {
    await membership.stop();
  }
});
