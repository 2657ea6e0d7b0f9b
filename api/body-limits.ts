import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { ErrorCodes } from "../messages/errors.ts";

/**
 * Request body caps. Bun.serve reads up to 128 MB by default; here every route has a cap and
 * a body over it is answered 413 `{"error":{"code":"PAYLOAD_TOO_LARGE","message"}}` before a
 * handler sees it. The caps are checked from Content-Length when there is one, and counted
 * while reading a chunked body, so an oversized body is never held whole. SERVER_MAX_BODY_BYTES
 * sits above every route cap: a declared body over it is refused before the app, in the same
 * shape (request-limits.ts).
 */
export const DEFAULT_BODY_LIMIT_BYTES = 16 * 1024;
export const SCHEMA_REGISTRY_BODY_LIMIT_BYTES = 1024 * 1024;
export const SERVER_MAX_BODY_BYTES = 4 * 1024 * 1024;

export interface BodyLimitRule {
  /** path prefix the cap applies to, e.g. "/schema-registry" */
  readonly prefix: string;
  readonly maxBytes: number;
}

export function bodyLimits(rules: readonly BodyLimitRule[], defaultMaxBytes = DEFAULT_BODY_LIMIT_BYTES) {
  const limiter = (maxBytes: number) =>
    bodyLimit({
      maxSize: maxBytes,
      onError: (c) =>
        c.json(
          {
            error: {
              code: ErrorCodes.PAYLOAD_TOO_LARGE,
              message: `the request body is over this route's limit of ${maxBytes} bytes`,
            },
          },
          413,
        ),
    });
  const byPrefix = [...rules]
    .sort((a, b) => b.prefix.length - a.prefix.length)
    .map((rule) => ({ prefix: rule.prefix, limit: limiter(rule.maxBytes) }));
  const fallback = limiter(defaultMaxBytes);
  const middleware: MiddlewareHandler = (c, next) => {
    const path = c.req.path;
    const rule = byPrefix.find((r) => path === r.prefix || path.startsWith(`${r.prefix}/`));
    return (rule?.limit ?? fallback)(c, next);
  };
  return middleware;
}
