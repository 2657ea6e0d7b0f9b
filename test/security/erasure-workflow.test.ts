import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AuditLog } from "../../api/gateway/audit-log.ts";
import { openLog } from "../../log/index.ts";
import type { EntityEraser, ErasureRequest } from "../../security/entity-eraser.ts";
import { type ErasureAuditEntry, runErasure } from "../../security/erasure-workflow.ts";

const request: ErasureRequest = {
  requestId: "req-1",
  entity: { kind: "sensor", id: "traffic_1" },
  requestedBy: "ops@example",
  requestedAt: 0,
};
const eraser = (store: string, behaviour: () => Promise<unknown>): EntityEraser => ({
  store,
  erase: async () => {
    await behaviour();
    return [{ store, status: "erased", items: 2 }];
  },
});

test("a request is audited when received and when done, with every store's outcome", async () => {
  const entries: ErasureAuditEntry[] = [];
  const report = await runErasure(
    request,
    [eraser("log", async () => {}), eraser("lake", async () => {})],
    { record: async (e) => void entries.push(e) },
    () => 42,
  );
  expect(report.complete).toBe(true);
  expect(entries.map((e) => [e.method, e.path, e.status, e.outcome, e.actor])).toEqual([
    ["ERASE", "/entities/sensor/traffic_1", 202, "done", "ops@example"],
    ["ERASE", "/entities/sensor/traffic_1", 200, "done", "ops@example"],
  ]);
  expect(entries[1]!.via).toBe("erasure req-1 log:erased(2) lake:erased(2)");
});

test("a store that fails makes the request partial (207) without stopping the others", async () => {
  const entries: ErasureAuditEntry[] = [];
  let lakeRan = false;
  const report = await runErasure(
    request,
    [
      eraser("log", async () => {
        throw new Error("broker down");
      }),
      eraser("lake", async () => {
        lakeRan = true;
      }),
    ],
    { record: async (e) => void entries.push(e) },
    Date.now,
    { sleep: async () => {} },
  );
  expect(lakeRan).toBe(true);
  expect(report.complete).toBe(false);
  expect(report.outcomes.map((o) => [o.store, o.status])).toEqual([
    ["log", "failed"],
    ["lake", "erased"],
  ]);
  expect(report.outcomes[0]!.detail).toContain("ERASURE_INCOMPLETE");
  expect(report.outcomes[0]!.detail).toContain("(3 attempts)");
  expect(entries.at(-1)).toMatchObject({ status: 207, outcome: "failed" });
});

test("a store that fails is tried again after a growing pause, and a later success completes the request", async () => {
  const pauses: number[] = [];
  let tries = 0;
  const flaky: EntityEraser = {
    store: "timeseries",
    erase: async () => {
      tries++;
      if (tries === 1) throw new Error("QuestDB restarting");
      if (tries === 2)
        return [{ store: "timeseries", status: "failed", items: 0, detail: "one table failed" }];
      return [{ store: "timeseries", status: "erased", items: 7 }];
    },
  };
  const report = await runErasure(request, [flaky], { record: async () => {} }, Date.now, {
    attempts: 4,
    delayMs: 100,
    sleep: async (ms) => void pauses.push(ms),
  });
  expect(tries).toBe(3);
  expect(pauses).toEqual([100, 200]);
  expect(report.complete).toBe(true);
  expect(report.outcomes).toEqual([{ store: "timeseries", status: "erased", items: 7 }]);
});

const dir = mkdtempSync(join(tmpdir(), "erasure-audit-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("the audit entries are records of the platform's audit trail (platform.audit)", async () => {
  const log = await openLog({ kind: "embedded", path: join(dir, "log.db") });
  try {
    const audit = await AuditLog.open(log);
    await runErasure(request, [eraser("log", async () => {})], audit);
    const { records } = await audit.read({ limit: 10, offset: 0 });
    expect(records.map((r) => [r.method, r.status])).toEqual([
      ["ERASE", 200],
      ["ERASE", 202],
    ]);
  } finally {
    await log.close();
  }
});
