import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openActorStateStores } from "../../engine/actor-state.ts";
import { openEmbeddedLog } from "../../log/embedded/index.ts";
import { ErrorCodes, PlatformError } from "../../messages/errors.ts";

/**
 * A partition lost to another owner (this member was fenced) must not get any more of this
 * member's state into its changelog: a late write would land over the new owner's state.
 */
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function restoredKeys(stores: Awaited<ReturnType<typeof openActorStateStores>>, partition: number) {
  const keys: string[] = [];
  await stores.restore([partition], async (_p, kind, key) => {
    keys.push(`${kind}/${key}`);
  });
  return keys.sort();
}

test("state of a lost partition, buffered or arriving later, is never written; written again once the partition is restored", async () => {
  const dir = mkdtempSync(join(tmpdir(), "actor-state-"));
  dirs.push(dir);
  const log = openEmbeddedLog({ path: join(dir, "log.db"), maintenanceIntervalMs: 0 });
  try {
    const stores = await openActorStateStores(log, { applicationId: "app", partitions: 2 });
    stores.save("window", "traffic:0:a", 0, { count: 1 });
    stores.save("window", "traffic:1:b", 1, { count: 1 });
    stores.discard?.([0]);
    // a worker's checkpoint that was already on its way when the partition was lost
    stores.save("sensor", "a", 0, { seen: 7 });
    await stores.flush();
    expect(await restoredKeys(stores, 1)).toEqual(["window/traffic:1:b"]);
    expect(await restoredKeys(stores, 0)).toEqual([]);

    // assigned again: restored (nothing of the lost member's), then its state is written again
    stores.save("sensor", "a", 0, { seen: 9 });
    await stores.flush();
    expect(await restoredKeys(stores, 0)).toEqual(["sensor/a"]);
  } finally {
    await log.close();
  }
});

test("partitions restore one at a time, each one's keys handed on before the next is read (regression: the next partitions' reads interleaved with the first one's sends, and the first partition came back with the last)", async () => {
  const dir = mkdtempSync(join(tmpdir(), "actor-state-"));
  dirs.push(dir);
  const log = openEmbeddedLog({ path: join(dir, "log.db"), maintenanceIntervalMs: 0 });
  const events: string[] = [];
  // the same log, its changelog reads noted in order with the sends
  const watched = new Proxy(log, {
    get(target, name, receiver) {
      if (name === "read")
        return (position: { topic: string; partition: number }, options: unknown) => {
          if (position.topic.endsWith(".window.changelog")) events.push(`read p${position.partition}`);
          return target.read(position, options as never);
        };
      const value = Reflect.get(target, name, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  try {
    const stores = await openActorStateStores(watched, { applicationId: "app", partitions: 3 });
    for (let partition = 0; partition < 3; partition++)
      for (let i = 0; i < 5; i++)
        stores.save("window", `traffic:${partition}:s${i}`, partition, Uint8Array.of(1, i));
    await stores.flush();
    // each send waits a macrotask, as a send into a full ring does
    const send = async (partition: number) => {
      await Bun.sleep(0);
      events.push(`send p${partition}`);
    };
    await Promise.all([0, 1, 2].map((p) => stores.restore([p], send)));
    const lastSendOf = (p: number) => events.lastIndexOf(`send p${p}`);
    expect(events.filter((e) => e.startsWith("send")).length).toBe(15);
    expect(events.indexOf("read p1")).toBeGreaterThan(lastSendOf(0));
    expect(events.indexOf("read p2")).toBeGreaterThan(lastSendOf(1));
  } finally {
    await log.close();
  }
});

test("a restored state its actor could not decode is counted with its kind and reported with its key and error", async () => {
  const dir = mkdtempSync(join(tmpdir(), "actor-state-"));
  dirs.push(dir);
  const log = openEmbeddedLog({ path: join(dir, "log.db"), maintenanceIntervalMs: 0 });
  const reports: [string, string | null, unknown][] = [];
  try {
    const stores = await openActorStateStores(log, {
      applicationId: "app",
      partitions: 1,
      onCorrupt: (kind, key, error) => reports.push([kind, key, error]),
    });
    const error = new PlatformError(ErrorCodes.DECODE_FAILED, "window snapshot: cut short");
    stores.corrupt("window", "traffic:0:a", error);
    stores.corrupt("window", "traffic:0:b", error);
    expect(reports).toEqual([
      ["window", "traffic:0:a", error],
      ["window", "traffic:0:b", error],
    ]);
    expect(stores.stats().window?.corruptStates).toBe(2);
    expect(stores.stats().sensor?.corruptStates).toBe(0);
  } finally {
    await log.close();
  }
});

test("a checkpoint's window states are durable before its sensor states are appended (a sensor skips replayed readings up to its own offset, so a kill -9 between the two appends would leave those readings in no window)", async () => {
  const dir = mkdtempSync(join(tmpdir(), "actor-state-"));
  dirs.push(dir);
  const log = openEmbeddedLog({ path: join(dir, "log.db"), maintenanceIntervalMs: 0 });
  const events: string[] = [];
  let releaseWindows: () => void = () => undefined;
  const windowsHeld = new Promise<void>((resolve) => {
    releaseWindows = resolve;
  });
  // the same log, its changelog appends noted; the window changelog's append held until released
  const watched = new Proxy(log, {
    get(target, name, receiver) {
      if (name === "append")
        return async (records: { topic: string }[]) => {
          const kind = records[0]!.topic.endsWith(".window.changelog") ? "window" : "sensor";
          events.push(`${kind} append starts`);
          if (kind === "window") await windowsHeld;
          const acks = await target.append(records as never);
          events.push(`${kind} append durable`);
          return acks;
        };
      const value = Reflect.get(target, name, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  try {
    const stores = await openActorStateStores(watched, { applicationId: "app", partitions: 1 });
    stores.save("sensor", "a", 0, Uint8Array.of(1));
    stores.save("window", "traffic:0:a", 0, Uint8Array.of(2));
    const flushed = stores.flush();
    await Bun.sleep(20);
    expect(events).toEqual(["window append starts"]);
    releaseWindows();
    await flushed;
    expect(events).toEqual([
      "window append starts",
      "window append durable",
      "sensor append starts",
      "sensor append durable",
    ]);
  } finally {
    await log.close();
  }
});
