import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { holdSharedInput } from "../../testkit/shared-input-lock.ts";

const dirs: string[] = [];
const lockDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "shared-input-lock-"));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

test("a second run on the same broker waits until the first releases it", async () => {
  const dir = lockDir();
  const releaseFirst = await holdSharedInput("localhost:9092", 5000, dir);
  let secondHolds = false;
  // the same broker by another name
  const second = holdSharedInput("127.0.0.1:9092", 5000, dir).then((release) => {
    secondHolds = true;
    return release;
  });
  await Bun.sleep(1200); // the waiter looks every 500 ms: it has looked and waited twice
  expect(secondHolds).toBe(false);
  releaseFirst();
  const releaseSecond = await second;
  expect(secondHolds).toBe(true);
  releaseSecond();
  expect(readdirSync(dir)).toEqual([]);
});

test("runs on different brokers do not wait for each other", async () => {
  const dir = lockDir();
  const a = await holdSharedInput("127.0.0.1:9092", 0, dir);
  const b = await holdSharedInput("127.0.0.1:9292", 0, dir);
  a();
  b();
});

test("a lock whose run died is taken over", async () => {
  const dir = lockDir();
  const dead = Bun.spawn([process.execPath, "-e", "0"]);
  await dead.exited;
  writeFileSync(join(dir, "streaming-ml-shared-input-127.0.0.1_9092.lock"), String(dead.pid));
  const release = await holdSharedInput("127.0.0.1:9092", 0, dir);
  release();
});

test("a lock still held past the wait fails naming its holder", async () => {
  const dir = lockDir();
  writeFileSync(join(dir, "streaming-ml-shared-input-127.0.0.1_9092.lock"), String(process.ppid));
  await expect(holdSharedInput("127.0.0.1:9092", 600, dir)).rejects.toThrow(`pid ${process.ppid}`);
});
