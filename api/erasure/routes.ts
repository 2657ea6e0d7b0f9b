import { randomUUID } from "node:crypto";
import { OpenAPIHono, z } from "@hono/zod-openapi";
import { ErrorCodes } from "../../messages/errors.ts";
import { ENTITY_KINDS, type EntityEraser, type ErasureRequest } from "../../security/entity-eraser.ts";
import { type ErasureAudit, type ErasureRetries, runErasure } from "../../security/erasure-workflow.ts";
import type { GatewayEnv } from "../gateway/gateway.ts";
import { documented, errorResponses, jsonResponse, refuseInvalidRequest } from "../openapi.ts";

/**
 * Deletion requests over HTTP (admin only; mounted at /api/v1/admin/erasures):
 *
 *   POST /api/v1/admin/erasures  {"kind":"sensor","id":"traffic_7","vacuum":{...}?}
 *
 * The request runs to its end before the answer (every store's eraser, tried again when one
 * fails) and is audited when received and when done; the answer is the report: 200 when every
 * store erased what it held, 207 when some store failed (the request is partial: send it again,
 * erasers are idempotent). The caller's subject is who asked; the body names no credential.
 */
export const ErasureBody = z
  .strictObject({
    kind: z.enum(ENTITY_KINDS),
    id: z
      .string()
      .regex(/^[A-Za-z0-9_.@:-]{1,128}$/, "the id is 1-128 letters, digits, '_', '.', '@', ':' or '-'"),
    vacuum: z
      .strictObject({
        retention_hours: z.number().min(0).max(87_600).optional(),
        enforce_retention: z.boolean().optional(),
      })
      .optional()
      .openapi({
        description:
          "VACUUM the lake tables the request changed: after their retention (default), or now with retention_hours 0 and enforce_retention false",
      }),
  })
  .openapi("ErasureRequest");

const ErasureOutcome = z
  .object({
    store: z.string(),
    status: z.enum(["erased", "not-found", "expires", "not-applicable", "failed"]),
    items: z.number().int(),
    detail: z.string().optional(),
  })
  .openapi("ErasureOutcome");

const ErasureReport = z
  .object({
    request_id: z.string(),
    entity: z.object({ kind: z.enum(ENTITY_KINDS), id: z.string() }),
    complete: z.boolean(),
    outcomes: z.array(ErasureOutcome),
  })
  .openapi("ErasureReport");

export interface ErasureRoutesDeps {
  readonly erasers: () => readonly EntityEraser[];
  readonly audit: ErasureAudit;
  readonly retries?: ErasureRetries;
  readonly now?: () => number;
  /** requests running at once; more are answered 429 with Retry-After (default 1) */
  readonly maxConcurrent?: number;
}

export function erasureRoutes(deps: ErasureRoutesDeps): OpenAPIHono<GatewayEnv> {
  const app = new OpenAPIHono<GatewayEnv>({ defaultHook: refuseInvalidRequest });
  const now = deps.now ?? Date.now;
  // each request rewrites lake files and QuestDB days: twelve at once never finished in 300 s
  // and held every later one; one at a time, the others are told to come back
  const maxConcurrent = deps.maxConcurrent ?? 1;
  let running = 0;
  documented(
    app,
    {
      method: "post",
      path: "/",
      summary: "Erase an entity (a sensor, a user) from every store, audited (admin)",
      request: { body: { content: { "application/json": { schema: ErasureBody } }, required: true } },
      responses: {
        200: jsonResponse(ErasureReport, "every store erased what it held"),
        207: jsonResponse(ErasureReport, "some store failed: the request is partial, send it again"),
        ...errorResponses,
      },
    },
    async (c) => {
      const body = ErasureBody.safeParse(await c.req.json().catch((error: unknown) => error));
      if (!body.success) {
        const issue = body.error.issues[0];
        const where = issue && issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
        return c.json(
          {
            error: {
              code: ErrorCodes.BAD_REQUEST,
              message: `${where}${issue?.message ?? 'expected {"kind": "sensor|user", "id": "..."}'}`,
            },
          },
          400,
        );
      }
      const { kind, id, vacuum } = body.data;
      const request: ErasureRequest = {
        requestId: randomUUID(),
        entity: { kind, id },
        requestedBy: c.get("principal")?.subject ?? "anonymous",
        requestedAt: now(),
        ...(vacuum
          ? {
              vacuum: {
                ...(vacuum.retention_hours === undefined ? {} : { retentionHours: vacuum.retention_hours }),
                ...(vacuum.enforce_retention === undefined
                  ? {}
                  : { enforceRetention: vacuum.enforce_retention }),
              },
            }
          : {}),
      };
      if (running >= maxConcurrent) {
        c.header("Retry-After", "5");
        return c.json(
          {
            error: {
              code: ErrorCodes.RATE_LIMITED,
              message: `${running} deletion request(s) already running; send this one again when it is done`,
            },
          },
          429,
        );
      }
      running++;
      const report = await runErasure(request, deps.erasers(), deps.audit, now, deps.retries).finally(() => {
        running--;
      });
      return c.json(
        {
          request_id: request.requestId,
          entity: request.entity,
          complete: report.complete,
          outcomes: report.outcomes,
        },
        report.complete ? 200 : 207,
      );
    },
  );
  return app;
}
