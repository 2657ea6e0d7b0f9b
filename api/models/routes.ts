import { type Context, Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { type ErrorCode, ErrorCodes, isPlatformError } from "../../messages/errors.ts";
import type { Principal } from "../gateway/principal.ts";

/**
 * The model lifecycle over HTTP, mounted at /api/models:
 *
 *   GET  /api/models                         served models: policy, aliases, versions' live metrics, loop stage
 *   GET  /api/models/:name                   one model, with its registry transitions (who, why)
 *   POST /api/models/:name/predict           {"row": [...] | {...}} or {"rows": [...]} -> values + the version that answered
 *   PUT  /api/models/:name/policy            a routing policy (single, canary, ab, shadow), in force at once
 *   POST /api/models/:name/canary/step       the canary's next share
 *   POST /api/models/:name/promote           {"version","reason"}: champion now, served alone
 *   POST /api/models/:name/rollback          {"reason"}: the champion before this one, served alone
 *   POST /api/models/:name/retrain           {"reason"}: start the retraining loop now (one in flight)
 *
 * Errors are `{"error":{"code","message"}}`; who made a change is the gateway's principal.
 */
export interface ModelControl {
  list(): Promise<unknown[]>;
  describe(name: string): Promise<unknown>;
  predict(name: string, body: unknown): Promise<unknown>;
  setPolicy(name: string, policy: unknown, by: string): Promise<unknown>;
  stepCanary(name: string, by: string): Promise<unknown>;
  promote(name: string, version: string, by: string, reason: string): Promise<unknown>;
  rollback(name: string, by: string, reason: string): Promise<unknown>;
  retrain(name: string, by: string, reason: string): { started: boolean };
}

const STATUS: Partial<Record<ErrorCode, ContentfulStatusCode>> = {
  BAD_REQUEST: 400,
  FEATURE_MISSING: 400,
  ROUTING_POLICY_INVALID: 400,
  TRACKING_INVALID: 400,
  MODEL_NOT_FOUND: 404,
  TRACKING_NOT_FOUND: 404,
  MODEL_REGISTRY_CONFLICT: 409,
  TRAINING_DATA_INVALID: 422,
  TRACKING_UNAVAILABLE: 503,
};
const NAME = /^[\w\-.]{1,200}$/;
const errorBody = (code: string, message: string) => ({ error: { code, message } });

type Env = { Variables: { principal: Principal | undefined } };

export function modelRoutes(control: ModelControl, onInternalError?: (error: unknown) => void): Hono<Env> {
  const app = new Hono<Env>();
  const fail = (c: Context, error: unknown) => {
    const status = isPlatformError(error) ? STATUS[error.code] : undefined;
    if (isPlatformError(error) && status) {
      if (status === 503) c.header("Retry-After", "5");
      return c.json(errorBody(error.code, error.message.replace(`${error.code}: `, "")), status);
    }
    onInternalError?.(error);
    return c.json(errorBody(ErrorCodes.INTERNAL, "internal error; see the node's log"), 500);
  };
  const nameOf = (c: Context): string | undefined => {
    const name = c.req.param("name") ?? "";
    return NAME.test(name) ? name : undefined;
  };
  const badName = (c: Context) =>
    c.json(errorBody(ErrorCodes.BAD_REQUEST, "a model name is letters, digits, '_', '-' or '.'"), 400);
  const by = (c: Context<Env>) => c.get("principal")?.subject ?? "anonymous";
  const body = async (c: Context): Promise<unknown> => {
    try {
      return await c.req.json();
    } catch (error) {
      if (error instanceof SyntaxError) return SYNTAX_ERROR;
      throw error;
    }
  };
  const reasonOf = (input: unknown): string | undefined => {
    const reason = (input as { reason?: unknown } | null)?.reason;
    return typeof reason === "string" && reason.trim().length > 0 && reason.length <= 1000
      ? reason
      : undefined;
  };
  const noReason = (c: Context) =>
    c.json(errorBody(ErrorCodes.BAD_REQUEST, "a `reason` (1-1000 characters) is required"), 400);
  const notJson = (c: Context) =>
    c.json(errorBody(ErrorCodes.BAD_REQUEST, "the body is not valid JSON"), 400);

  app.get("/", async (c) => {
    try {
      return c.json({ models: await control.list() });
    } catch (error) {
      return fail(c, error);
    }
  });

  app.get("/:name", async (c) => {
    const name = nameOf(c);
    if (!name) return badName(c);
    try {
      return c.json(await control.describe(name));
    } catch (error) {
      return fail(c, error);
    }
  });

  app.post("/:name/predict", async (c) => {
    const name = nameOf(c);
    if (!name) return badName(c);
    const input = await body(c);
    if (input === SYNTAX_ERROR) return notJson(c);
    try {
      return c.json(await control.predict(name, input));
    } catch (error) {
      return fail(c, error);
    }
  });

  app.put("/:name/policy", async (c) => {
    const name = nameOf(c);
    if (!name) return badName(c);
    const input = await body(c);
    if (input === SYNTAX_ERROR) return notJson(c);
    try {
      return c.json(await control.setPolicy(name, input, by(c)));
    } catch (error) {
      return fail(c, error);
    }
  });

  app.post("/:name/canary/step", async (c) => {
    const name = nameOf(c);
    if (!name) return badName(c);
    try {
      return c.json(await control.stepCanary(name, by(c)));
    } catch (error) {
      return fail(c, error);
    }
  });

  app.post("/:name/promote", async (c) => {
    const name = nameOf(c);
    if (!name) return badName(c);
    const input = await body(c);
    if (input === SYNTAX_ERROR) return notJson(c);
    const version = (input as { version?: unknown } | null)?.version;
    if (typeof version !== "string" || !/^\d{1,9}$/.test(version)) {
      return c.json(
        errorBody(ErrorCodes.BAD_REQUEST, "`version` must be a registry version number as a string"),
        400,
      );
    }
    const reason = reasonOf(input);
    if (!reason) return noReason(c);
    try {
      return c.json(await control.promote(name, version, by(c), reason));
    } catch (error) {
      return fail(c, error);
    }
  });

  app.post("/:name/rollback", async (c) => {
    const name = nameOf(c);
    if (!name) return badName(c);
    const input = await body(c);
    if (input === SYNTAX_ERROR) return notJson(c);
    const reason = reasonOf(input);
    if (!reason) return noReason(c);
    try {
      return c.json(await control.rollback(name, by(c), reason));
    } catch (error) {
      return fail(c, error);
    }
  });

  app.post("/:name/retrain", async (c) => {
    const name = nameOf(c);
    if (!name) return badName(c);
    const input = await body(c);
    if (input === SYNTAX_ERROR) return notJson(c);
    const reason = reasonOf(input);
    if (!reason) return noReason(c);
    try {
      const { started } = control.retrain(name, by(c), reason);
      return c.json({ started }, started ? 202 : 409);
    } catch (error) {
      return fail(c, error);
    }
  });

  return app;
}

const SYNTAX_ERROR = Symbol("syntax error");
