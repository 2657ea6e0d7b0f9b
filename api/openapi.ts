import { createRoute, type OpenAPIHono, type RouteConfig, z } from "@hono/zod-openapi";
import type { Context, Env } from "hono";
import { ErrorCodes } from "../messages/errors.ts";

/**
 * The API's routes are described once, as @hono/zod-openapi route definitions: the OpenAPI 3.1
 * document at /openapi.json (and Swagger UI at /docs) is generated from them. Handlers keep the
 * platform's own parameter checks and error envelope, so a definition documents the request
 * and its answers while the handler decides them; query parameters are declared as the strings
 * they arrive as.
 */
export const ErrorBody = z
  .object({ error: z.object({ code: z.string(), message: z.string() }) })
  .openapi("Error");

export const PageShape = z
  .object({
    limit: z.number().int(),
    offset: z.number().int(),
    total: z.number().int(),
    next_offset: z.number().int().nullable(),
  })
  .openapi("Page");

export const pageQuery = {
  limit: z.string().optional().openapi({ description: "items per page, 1..1000", example: "100" }),
  offset: z.string().optional().openapi({ description: "items to skip", example: "0" }),
};

/** response shaping of the tabular routes */
export const shapeQuery = {
  fields: z
    .string()
    .optional()
    .openapi({ description: "comma-separated top-level fields to keep", example: "sensor_id,type" }),
  format: z
    .enum(["json", "csv"])
    .optional()
    .openapi({ description: "csv for a text/csv table (or Accept: text/csv)" }),
};

const json = (schema: z.ZodType, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

export const errorResponses = {
  400: json(ErrorBody, "a bad parameter"),
  401: json(ErrorBody, "no credential, or one that does not verify"),
  403: json(ErrorBody, "the caller's role is not enough"),
  429: json(ErrorBody, "too many requests: see Retry-After"),
} as const;

export function jsonResponse(schema: z.ZodType, description: string) {
  return json(schema, description);
}

/** a list answer: `{<name>: [...], page}`, or CSV with the page in headers */
export function listResponse(name: string, item: z.ZodType, description: string) {
  return {
    description,
    content: {
      "application/json": { schema: z.object({ [name]: z.array(item), page: PageShape }) },
      "text/csv": { schema: z.string() },
    },
  };
}

/**
 * The hook of a route group's OpenAPIHono: a request that fails the route's declared schema is the
 * platform's 400 `{"error":{"code","message"}}`, not the validator's own shape.
 */
export function refuseInvalidRequest(
  result: {
    success: boolean;
    error?: { issues: readonly { path: readonly PropertyKey[]; message: string }[] };
  },
  c: Context,
): Response | undefined {
  if (result.success) return undefined;
  const issue = result.error?.issues[0];
  const where = issue && issue.path.length > 0 ? `${issue.path.map(String).join(".")}: ` : "";
  return c.json(
    { error: { code: ErrorCodes.BAD_REQUEST, message: `${where}${issue?.message ?? "invalid request"}` } },
    400,
  );
}

/** a table answered as JSON (shaped by `fields=`) or, with `format=csv` / `Accept: text/csv`, as CSV */
export function shapedResponse(schema: z.ZodType, description: string) {
  return {
    description,
    content: { "application/json": { schema }, "text/csv": { schema: z.string() } },
  };
}

/** path parameters, each a string as it arrives */
export function pathParams<K extends string>(...names: K[]) {
  return z.object(Object.fromEntries(names.map((n) => [n, z.string()])) as Record<K, z.ZodString>);
}

/** registers a documented route; the handler answers with any Response (errors included) */
export function documented<E extends Env, R extends RouteConfig>(
  app: OpenAPIHono<E>,
  route: R,
  handler: (c: Context<E>) => Response | Promise<Response>,
): void {
  app.openapi(createRoute(route), handler as never);
}
