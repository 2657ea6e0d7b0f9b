import { type Context, Hono } from "hono";
import { z } from "zod";
import { parseMatcher } from "../../alerting/label-matchers.ts";
import { type Silences, silenceState } from "../../alerting/silences.ts";
import { type Alert, LabelMatcher, type Silence } from "../../messages/alert.ts";
import { ErrorCodes, isPlatformError } from "../../messages/errors.ts";

/**
 * The node's alerting over HTTP, mounted at `/api/alerts`:
 *   GET    /active          pending and firing alerts with their state and what mutes them
 *                           (filter: `?state=pending|firing`, `?silenced=false`, `?inhibited=false`)
 *   GET    /silences        every silence with its state (pending, active, expired)
 *   GET    /silences/:id
 *   POST   /silences        {matchers, startsAt?, endsAt | duration, createdBy, comment} -> {silenceID}
 *   DELETE /silences/:id    expire it now
 * Silence bodies follow Alertmanager's v2 API (matchers as {name, value, isRegex, isEqual}, times
 * in RFC 3339), and matchers may also be written as text (`node="n1"`). Errors are
 * `{"error":{"code","message"}}`; a silence is answered only once it is on disk.
 */
export interface AlertRoutesDeps {
  /** the alert router's read of its alerts, handed over when it starts */
  readonly active: () => readonly ActiveAlertStatus[];
  readonly silences: Silences;
  /** resolves once the last silence change is durable */
  readonly flushed: () => Promise<void>;
  readonly now?: () => number;
}

/**
 * An alert as these routes read it from the alert room: the API declares the shape it shows, so
 * it depends on no actor's behaviour; the alert router's view has these fields.
 */
export interface ActiveAlertStatus {
  readonly state: "pending" | "firing";
  /** when the condition began to hold */
  readonly activeAt: number;
  readonly alert: Alert;
  /** the ids of the active silences that mute it */
  readonly silencedBy: readonly string[];
  /** the fingerprint of the firing alert that inhibits it */
  readonly inhibitedBy: string | undefined;
}

const MAX_BODY_BYTES = 64 * 1024;
const time = z
  .union([z.iso.datetime({ offset: true }), z.number().int().nonnegative()])
  .transform((t) => (typeof t === "number" ? t : Date.parse(t)));
export const SilenceBody = z
  .object({
    matchers: z
      .array(z.union([z.string().max(2000), LabelMatcher]))
      .min(1)
      .max(50),
    startsAt: time.optional(),
    endsAt: time.optional(),
    /** instead of endsAt: how long from the start, in ms */
    durationMs: z
      .number()
      .int()
      .positive()
      .max(365 * 24 * 3_600_000)
      .optional(),
    createdBy: z.string().trim().min(1).max(200),
    comment: z.string().trim().min(1).max(2000),
  })
  .strict()
  .refine(
    (b) => (b.endsAt === undefined) !== (b.durationMs === undefined),
    "give either endsAt or durationMs",
  );

const errorBody = (code: string, message: string) => ({ error: { code, message } });

export function alertRoutes(deps: AlertRoutesDeps): Hono {
  const now = deps.now ?? Date.now;
  const app = new Hono();
  const bad = (c: Context, message: string) => c.json(errorBody(ErrorCodes.BAD_REQUEST, message), 400);

  app.get("/active", (c) => {
    const state = c.req.query("state");
    if (state !== undefined && state !== "pending" && state !== "firing")
      return bad(c, "state must be pending or firing");
    const flag = (name: string) => {
      const raw = c.req.query(name);
      return raw === undefined
        ? undefined
        : raw === "true"
          ? true
          : raw === "false"
            ? false
            : new Error(`${name} must be true or false`);
    };
    const silenced = flag("silenced");
    const inhibited = flag("inhibited");
    if (silenced instanceof Error) return bad(c, silenced.message);
    if (inhibited instanceof Error) return bad(c, inhibited.message);
    const alerts = deps
      .active()
      .filter(
        (a) =>
          (state === undefined || a.state === state) &&
          (silenced === undefined || a.silencedBy.length > 0 === silenced) &&
          (inhibited === undefined || (a.inhibitedBy !== undefined) === inhibited),
      )
      .map((a) => ({
        state: a.state,
        activeAt: new Date(a.activeAt).toISOString(),
        silencedBy: a.silencedBy,
        inhibitedBy: a.inhibitedBy ?? null,
        alert: a.alert,
      }));
    return c.json({ alerts });
  });

  app.get("/silences", (c) =>
    c.json({ silences: deps.silences.list(now()).map(({ silence, state }) => view(silence, state)) }),
  );

  app.get("/silences/:id", (c) => {
    const silence = deps.silences.get(c.req.param("id"));
    if (!silence) return c.json(errorBody(ErrorCodes.NOT_FOUND, "no such silence"), 404);
    return c.json({ silence: view(silence, silenceState(silence, now())) });
  });

  app.post("/silences", async (c) => {
    const length = Number(c.req.header("content-length") ?? 0);
    if (length > MAX_BODY_BYTES)
      return c.json(
        errorBody(ErrorCodes.PAYLOAD_TOO_LARGE, `a silence is at most ${MAX_BODY_BYTES} bytes`),
        413,
      );
    const text = await c.req.text();
    if (text.length > MAX_BODY_BYTES)
      return c.json(
        errorBody(ErrorCodes.PAYLOAD_TOO_LARGE, `a silence is at most ${MAX_BODY_BYTES} bytes`),
        413,
      );
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (cause) {
      // the parser's own message names its internals (positions, the error class): the caller gets the code
      if (!(cause instanceof SyntaxError)) throw cause;
      return c.json(errorBody(ErrorCodes.MALFORMED_JSON, "the body is not JSON"), 400);
    }
    const parsed = SilenceBody.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return c.json(
        errorBody(
          ErrorCodes.SCHEMA_VIOLATION,
          `${issue?.path.join(".") || "body"}: ${issue?.message ?? "invalid"}`,
        ),
        400,
      );
    }
    const body = parsed.data;
    const matchers: LabelMatcher[] = [];
    for (const m of body.matchers) {
      const matcher = typeof m === "string" ? parseMatcher(m) : m;
      if (matcher instanceof Error) return bad(c, matcher.message);
      matchers.push(matcher);
    }
    const at = now();
    const startsAt = body.startsAt ?? at;
    try {
      const silence = deps.silences.create(
        {
          matchers,
          startsAt,
          endsAt: body.endsAt ?? Math.max(startsAt, at) + (body.durationMs ?? 0),
          createdBy: body.createdBy,
          comment: body.comment,
        },
        at,
      );
      await deps.flushed();
      return c.json({ silenceID: silence.id, silence: view(silence, silenceState(silence, now())) }, 201);
    } catch (error) {
      if (isPlatformError(error, ErrorCodes.BAD_REQUEST))
        return bad(c, error.message.replace(/^BAD_REQUEST: /, ""));
      throw error;
    }
  });

  app.delete("/silences/:id", async (c) => {
    try {
      const silence = deps.silences.expire(c.req.param("id"), now());
      await deps.flushed();
      return c.json({ silence: view(silence, "expired") });
    } catch (error) {
      if (isPlatformError(error, ErrorCodes.NOT_FOUND))
        return c.json(errorBody(ErrorCodes.NOT_FOUND, "no such silence"), 404);
      if (isPlatformError(error, ErrorCodes.BAD_REQUEST))
        return bad(c, error.message.replace(/^BAD_REQUEST: /, ""));
      throw error;
    }
  });

  return app;
}

/** a silence as Alertmanager's API shows it: times in RFC 3339, its state */
function view(silence: Silence, state: string) {
  return {
    id: silence.id,
    matchers: silence.matchers,
    startsAt: new Date(silence.startsAt).toISOString(),
    endsAt: new Date(silence.endsAt).toISOString(),
    updatedAt: new Date(silence.updatedAt).toISOString(),
    createdBy: silence.createdBy,
    comment: silence.comment,
    status: { state },
  };
}
