import { ErrorCodes, PlatformError } from "../messages/errors.ts";
import type { EntityEraser, ErasureOutcome, ErasureRequest } from "./entity-eraser.ts";

/**
 * A deletion request from start to end: every store's eraser runs (one failing does not stop the
 * others), and the request is audited twice, when it is received and when it is done, with each
 * store's outcome, so the trail shows a request that never finished too. The audit entries take
 * the shape of the API's audit records (`platform.audit`, api/gateway/audit-log.ts): who, what
 * (method ERASE on /entities/<kind>/<id>), when, and the result as a status and an outcome word.
 * A store that fails is tried again (its eraser whole, since erasers are idempotent) a few times
 * with a growing pause; one that still fails is in the report and the audit as failed, never
 * left out, and the request is partial: run it again.
 */
export interface ErasureAuditEntry {
  readonly time: number;
  readonly actor: string;
  readonly role: string | null;
  readonly via: string | null;
  readonly method: string;
  readonly path: string;
  readonly address: string | null;
  readonly status: number;
  readonly outcome: "done" | "denied" | "refused" | "failed";
}

export interface ErasureAudit {
  record(entry: ErasureAuditEntry): Promise<void>;
}

export interface ErasureReport {
  readonly request: ErasureRequest;
  readonly complete: boolean;
  readonly outcomes: readonly ErasureOutcome[];
}

/** 202: received; 200: every store done; 207: some store failed (WebDAV's multi-status) */
const RECEIVED = 202;
const DONE = 200;
const PARTIAL = 207;

export interface ErasureRetries {
  /** tries per store (default 3) */
  readonly attempts?: number;
  /** the pause before the second try, doubled after each (default 500 ms) */
  readonly delayMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

export async function runErasure(
  request: ErasureRequest,
  erasers: readonly EntityEraser[],
  audit: ErasureAudit,
  clock: () => number = Date.now,
  retries: ErasureRetries = {},
): Promise<ErasureReport> {
  const attempts = Math.max(1, retries.attempts ?? 3);
  const delayMs = retries.delayMs ?? 500;
  const sleep = retries.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const entry = (status: number, outcome: ErasureAuditEntry["outcome"], via: string): ErasureAuditEntry => ({
    time: clock(),
    actor: request.requestedBy,
    role: null,
    via,
    method: "ERASE",
    path: `/entities/${request.entity.kind}/${encodeURIComponent(request.entity.id)}`,
    address: null,
    status,
    outcome,
  });
  // received first: a request is on the trail before anything is deleted
  await audit.record(entry(RECEIVED, "done", `erasure ${request.requestId} received`));
  const eraseWithRetries = async (eraser: EntityEraser): Promise<ErasureOutcome[]> => {
    for (let attempt = 1; ; attempt++) {
      let outcomes: ErasureOutcome[];
      try {
        outcomes = await eraser.erase(request);
      } catch (cause) {
        const error = new PlatformError(ErrorCodes.ERASURE_INCOMPLETE, `the ${eraser.store} eraser failed`, {
          cause,
        });
        outcomes = [{ store: eraser.store, status: "failed", items: 0, detail: error.message }];
      }
      if (!outcomes.some((o) => o.status === "failed")) return outcomes;
      if (attempt >= attempts)
        return outcomes.map((o) =>
          o.status === "failed" ? { ...o, detail: `${o.detail ?? "failed"} (${attempt} attempts)` } : o,
        );
      await sleep(delayMs * 2 ** (attempt - 1));
    }
  };
  const outcomes = (await Promise.all(erasers.map(eraseWithRetries))).flat();
  const complete = outcomes.every((o) => o.status !== "failed");
  const summary = outcomes.map((o) => `${o.store}:${o.status}${o.items > 0 ? `(${o.items})` : ""}`).join(" ");
  await audit.record(
    entry(
      complete ? DONE : PARTIAL,
      complete ? "done" : "failed",
      `erasure ${request.requestId} ${summary}`.slice(0, 1000),
    ),
  );
  return { request, complete, outcomes };
}
