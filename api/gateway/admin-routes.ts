import { OpenAPIHono, z } from "@hono/zod-openapi";
import { ErrorCodes, isPlatformError } from "../../messages/errors.ts";
import { documented, ErrorBody, errorResponses, jsonResponse, listResponse, pageQuery } from "../openapi.ts";
import { pageRequestOf } from "../pagination.ts";
import type { ApiKeyStore } from "./api-key-store.ts";
import { type AuditLog, AuditRecord } from "./audit-log.ts";
import type { GatewayEnv } from "./gateway.ts";
import { ROLES } from "./roles.ts";

/**
 * Admin routes of the gateway: API keys (create: the key is in this one answer and nowhere
 * else; list: never the secret or its hash; revoke), the audit trail, newest first, and the
 * routes of the node with the role each needs (what the authorization matrix test checks).
 */
const KeyInfo = z
  .object({
    id: z.string(),
    name: z.string(),
    role: z.enum(ROLES),
    created_at: z.number().int(),
    revoked_at: z.number().int().nullable(),
  })
  .openapi("ApiKey");
const NewKey = z.strictObject({ name: z.string().min(1).max(100), role: z.enum(ROLES) }).openapi("NewApiKey");

const errorBody = (code: string, message: string) => ({ error: { code, message } });

/** a route of the app and the least role that reaches it (null: not in the table, so admin) */
export interface RouteAccess {
  readonly method: string;
  readonly path: string;
  readonly access: string | null;
}

export function adminRoutes(parts: {
  keys?: ApiKeyStore;
  audit?: AuditLog;
  routes?: () => readonly RouteAccess[];
}): OpenAPIHono<GatewayEnv> {
  const app = new OpenAPIHono<GatewayEnv>();

  documented(
    app,
    {
      method: "get",
      path: "/admin/routes",
      summary: "Every route of the node and the least role that reaches it (admin)",
      responses: {
        200: jsonResponse(
          z.object({
            routes: z.array(
              z.object({ method: z.string(), path: z.string(), access: z.string().nullable() }),
            ),
          }),
          "the routes",
        ),
        ...errorResponses,
      },
    },
    (c) => c.json({ routes: parts.routes?.() ?? [] }),
  );
  const unavailable = { error: { code: ErrorCodes.NOT_FOUND, message: "this node keeps no API keys" } };

  documented(
    app,
    {
      method: "post",
      path: "/admin/api-keys",
      summary: "Create an API key (admin); the key is shown in this answer only",
      request: { body: { content: { "application/json": { schema: NewKey } }, required: true } },
      responses: {
        201: jsonResponse(z.object({ key: z.string(), api_key: KeyInfo }), "the new key"),
        409: jsonResponse(ErrorBody, "as many keys are active as allowed (OUT_OF_RANGE)"),
        ...errorResponses,
      },
    },
    async (c) => {
      if (!parts.keys) return c.json(unavailable, 404);
      const body = NewKey.safeParse(await c.req.json().catch((error: unknown) => error));
      if (!body.success)
        return c.json(
          errorBody(ErrorCodes.BAD_REQUEST, 'expected {"name": "...", "role": "viewer|operator|admin"}'),
          400,
        );
      try {
        const created = await parts.keys.create(body.data.name, body.data.role);
        // the secret must not be cached anywhere on its way back
        return c.json({ key: created.key, api_key: created.info }, 201, { "cache-control": "no-store" });
      } catch (error) {
        if (isPlatformError(error, ErrorCodes.OUT_OF_RANGE))
          return c.json(errorBody(error.code, error.message.replace(`${error.code}: `, "")), 409);
        throw error;
      }
    },
  );

  documented(
    app,
    {
      method: "get",
      path: "/admin/api-keys",
      summary: "List API keys (admin), without their secrets",
      responses: {
        200: jsonResponse(z.object({ api_keys: z.array(KeyInfo) }), "the keys"),
        ...errorResponses,
      },
    },
    (c) => c.json({ api_keys: parts.keys?.list() ?? [] }),
  );

  documented(
    app,
    {
      method: "delete",
      path: "/admin/api-keys/{id}",
      summary: "Revoke an API key (admin)",
      request: { params: z.object({ id: z.string() }) },
      responses: {
        200: jsonResponse(z.object({ api_key: KeyInfo }), "the revoked key"),
        404: jsonResponse(ErrorBody, "no such key"),
        ...errorResponses,
      },
    },
    async (c) => {
      if (!parts.keys) return c.json(unavailable, 404);
      try {
        return c.json({ api_key: await parts.keys.revoke(c.req.param("id")!) });
      } catch (error) {
        if (isPlatformError(error, ErrorCodes.NOT_FOUND))
          return c.json(errorBody(error.code, "no such API key"), 404);
        throw error;
      }
    },
  );

  documented(
    app,
    {
      method: "get",
      path: "/audit",
      summary: "The audit trail, newest first (admin)",
      request: { query: z.object(pageQuery) },
      responses: { 200: listResponse("audit", AuditRecord, "a page of audit records"), ...errorResponses },
    },
    async (c) => {
      const page = pageRequestOf((name) => c.req.query(name), 100);
      if (page instanceof Error) return c.json(errorBody(ErrorCodes.BAD_REQUEST, page.message), 400);
      if (!parts.audit) return c.json({ audit: [], page: { ...page, total: 0, next_offset: null } });
      const { records, total } = await parts.audit.read(page);
      const end = page.offset + page.limit;
      return c.json({ audit: records, page: { ...page, total, next_offset: end < total ? end : null } });
    },
  );

  return app;
}
