import type { Context, MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import { ErrorCodes, isPlatformError, type PlatformError } from "../../messages/errors.ts";
import type { ApiKeyStore } from "./api-key-store.ts";
import { hashApiKey, looksLikeApiKey, sameDigest } from "./api-key-store.ts";
import { type AuditLog, outcomeOf } from "./audit-log.ts";
import type { JwtVerifier } from "./jwt-verifier.ts";
import { isLoopbackAddress, isLoopbackHost, type OriginPolicy, originPolicy } from "./origin-policy.ts";
import type { Principal } from "./principal.ts";
import { type TokenBucketOptions, TokenBuckets } from "./rate-limiter.ts";
import { roleAtLeast } from "./roles.ts";
import { FEED_POLICY, type RoutePolicy, routePolicy } from "./route-policy.ts";
import { securityHeaders } from "./security-headers.ts";

/**
 * The API gateway: every request to the node passes here before a route sees it.
 *
 *   security headers -> CORS (allow-list; answers preflights) -> rate limit per address ->
 *   authentication -> authorization (ROUTE_POLICY) -> rate limit per caller ->
 *   CSRF rules for writes -> the route -> audit record for writes
 *
 * Credentials: `Authorization: Bearer <API key or JWT>` or `X-API-Key: <key>`; a WebSocket
 * upgrade may also pass `?access_token=` (browsers cannot set headers on one). A credential that
 * does not verify is 401 even where no credential would have been enough: a caller who sent one
 * meant to be someone.
 *
 * Development mode: while no credential is configured (no ADMIN_API_KEY, no JWKS, no active key
 * in platform.api-keys), a caller on this machine (loopback socket and loopback Host header) is
 * `admin`, and everyone else gets 401. The node then binds 127.0.0.1 unless HOST says otherwise.
 * The first key created ends development mode on every node within a second.
 */
export interface GatewayOptions {
  readonly keys?: ApiKeyStore;
  /** ADMIN_API_KEY: an admin credential from the environment, for the first key and for scripts */
  readonly bootstrapKey?: string;
  readonly jwt?: JwtVerifier;
  readonly policy?: RoutePolicy;
  readonly corsOrigins?: readonly string[];
  /** per client address and, separately, per authenticated caller */
  readonly rateLimit?: Omit<TokenBucketOptions, "now">;
  readonly audit?: AuditLog;
  /** the node serves HTTPS (HSTS is sent) */
  readonly tls?: boolean;
  readonly now?: () => number;
  /** an audit record that could not be written (the log is down) */
  readonly onAuditError?: (error: unknown) => void;
}

/** what the Bun adapter passes with each request */
export interface GatewayBindings {
  readonly clientAddress?: string;
}

export interface GatewayEnv {
  Bindings: GatewayBindings;
  Variables: { principal: Principal | undefined };
}

export interface Refusal {
  readonly status: 401 | 403 | 415 | 429 | 503;
  readonly code: string;
  readonly message: string;
  readonly headers?: Record<string, string>;
}

export const DEFAULT_RATE_LIMIT = { perSecond: 200, burst: 400 } as const;
export const DOCS_PATH = "/docs";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
/** the bodies a browser may send cross-site without a preflight (the Fetch standard's list) */
const SIMPLE_CONTENT_TYPES = new Set([
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data",
]);
const BEARER = /^Bearer\s+(\S+)$/i;

const refusal = (
  status: Refusal["status"],
  code: string,
  message: string,
  headers?: Record<string, string>,
) => ({ status, code, message, ...(headers ? { headers } : {}) }) satisfies Refusal;

const CHALLENGE = { "www-authenticate": 'Bearer realm="streaming-ml"' };

export class Gateway {
  readonly policy: RoutePolicy;
  readonly origins: OriginPolicy;
  private readonly byAddress: TokenBuckets;
  private readonly byCaller: TokenBuckets;
  private readonly bootstrapHash: string | undefined;

  constructor(private readonly options: GatewayOptions = {}) {
    this.policy = options.policy ?? routePolicy();
    this.origins = originPolicy(options.corsOrigins ?? []);
    const limit = {
      ...(options.rateLimit ?? DEFAULT_RATE_LIMIT),
      ...(options.now ? { now: options.now } : {}),
    };
    this.byAddress = new TokenBuckets(limit);
    this.byCaller = new TokenBuckets(limit);
    this.bootstrapHash = options.bootstrapKey ? hashApiKey(options.bootstrapKey) : undefined;
  }

  /** no credential of any kind is configured: loopback callers are admin */
  developmentMode(): boolean {
    return !this.bootstrapHash && !this.options.jwt && !(this.options.keys?.hasActiveKeys() ?? false);
  }

  /** the caller of a request: a principal, undefined for an anonymous one, or a refusal */
  async authenticate(
    request: Request,
    clientAddress: string | undefined,
    allowQueryToken = false,
  ): Promise<Principal | undefined | Refusal> {
    const credential = credentialOf(request, allowQueryToken);
    if (credential === undefined) {
      // Bun.serve builds request.url from the Host header; a Request made in code may have only the URL
      const host = request.headers.get("host") ?? new URL(request.url).host;
      const local = isLoopbackAddress(clientAddress) && isLoopbackHost(host);
      return local && this.developmentMode()
        ? { subject: "development", role: "admin", via: "development" }
        : undefined;
    }
    if (this.bootstrapHash && sameDigest(hashApiKey(credential), this.bootstrapHash))
      return { subject: "bootstrap-key", role: "admin", via: "bootstrap-key" };
    if (looksLikeApiKey(credential) || !this.options.jwt) {
      const key = this.options.keys?.verify(credential);
      if (!key)
        return refusal(
          401,
          ErrorCodes.UNAUTHORIZED,
          "the API key is not valid (unknown or revoked)",
          CHALLENGE,
        );
      return { subject: `key:${key.id}:${key.name}`, role: key.role, via: "api-key" };
    }
    try {
      return await this.options.jwt.verify(credential);
    } catch (error) {
      if (isPlatformError(error, ErrorCodes.UNAUTHORIZED))
        return refusal(401, error.code, messageOf(error), {
          "www-authenticate": 'Bearer realm="streaming-ml", error="invalid_token"',
        });
      if (isPlatformError(error, ErrorCodes.FORBIDDEN)) return refusal(403, error.code, messageOf(error));
      if (isPlatformError(error, ErrorCodes.INFRA_UNAVAILABLE)) {
        console.error("JWT verification unavailable:", error.cause ?? error);
        return refusal(503, error.code, "tokens cannot be checked right now; retry shortly");
      }
      throw error;
    }
  }

  /** the access rules of one request, after it was authenticated */
  authorize(method: string, path: string, principal: Principal | undefined): Refusal | undefined {
    const access = this.policy.accessFor(method, path);
    if (access === "public") return undefined;
    if (!principal)
      return refusal(
        401,
        ErrorCodes.UNAUTHORIZED,
        "this route needs a credential: Authorization: Bearer <API key or token>",
        CHALLENGE,
      );
    if (!roleAtLeast(principal.role, access))
      return refusal(
        403,
        ErrorCodes.FORBIDDEN,
        `this route needs the role '${access}'; you have '${principal.role}'`,
      );
    return undefined;
  }

  private limit(buckets: TokenBuckets, key: string): Refusal | undefined {
    const admission = buckets.take(key);
    if (admission.allowed) return undefined;
    const seconds = Math.max(1, Math.ceil(admission.retryAfterMs / 1000));
    return refusal(429, ErrorCodes.RATE_LIMITED, `too many requests; retry in ${seconds} s`, {
      "retry-after": String(seconds),
    });
  }

  /** browsers' cross-site writes: an unlisted foreign Origin, or a body type that skips the preflight */
  private csrf(request: Request): Refusal | undefined {
    const origin = request.headers.get("origin");
    if (origin !== null && !this.origins.acceptable(origin, request.url))
      return refusal(403, ErrorCodes.FORBIDDEN, "writes from this Origin are not allowed (see CORS_ORIGINS)");
    const type = request.headers.get("content-type")?.split(";")[0]?.trim().toLowerCase();
    if (request.method === "POST" ? type === undefined || type === "" : false)
      return refusal(415, ErrorCodes.UNSUPPORTED_MEDIA_TYPE, "a write needs content-type: application/json");
    if (type !== undefined && SIMPLE_CONTENT_TYPES.has(type))
      return refusal(
        415,
        ErrorCodes.UNSUPPORTED_MEDIA_TYPE,
        `a write needs content-type: application/json, not ${type}`,
      );
    return undefined;
  }

  /** every HTTP request of the app passes through this */
  middleware(): MiddlewareHandler<GatewayEnv> {
    const headers = securityHeaders({ tls: this.options.tls ?? false, docsPath: DOCS_PATH });
    const corsCheck = cors({
      origin: (origin) => (this.origins.listed(origin) ? origin : null),
      allowHeaders: ["authorization", "content-type", "x-api-key"],
      exposeHeaders: ["retry-after", "deprecation", "link"],
      maxAge: 600,
    });
    // a middleware that answers by itself (a CORS preflight) returns its Response instead of
    // calling next; nested by hand, that answer has to be put on the context
    const run = async (middleware: MiddlewareHandler, c: Context<GatewayEnv>, next: () => Promise<void>) => {
      const answer = await middleware(c, next);
      if (answer instanceof Response) c.res = answer;
    };
    return async (c, next) => {
      // an OPTIONS that is not a CORS preflight is an ordinary request (answered 405)
      const notPreflight =
        c.req.method === "OPTIONS" &&
        (c.req.header("origin") === undefined || c.req.header("access-control-request-method") === undefined);
      const guarded = () => this.guard(c, next);
      await run(headers, c, () => (notPreflight ? guarded() : run(corsCheck, c, guarded)));
    };
  }

  private async guard(c: Context<GatewayEnv>, next: () => Promise<void>): Promise<void> {
    const request = c.req.raw;
    const address = c.env?.clientAddress;
    const writes = !SAFE_METHODS.has(request.method);
    let principal: Principal | undefined;
    let answer: Response | undefined;
    const refuse = (r: Refusal) => {
      answer = c.json({ error: { code: r.code, message: r.message } }, r.status, r.headers);
      c.res = answer;
    };
    const byAddress = this.limit(this.byAddress, address ?? "unknown");
    if (byAddress) {
      // a flood is not audited record by record: that would let it fill the audit topic
      refuse(byAddress);
      return;
    }
    try {
      const who = await this.authenticate(request, address);
      if (who !== undefined && "status" in who) return refuse(who);
      principal = who;
      c.set("principal", principal);
      const denied =
        this.authorize(request.method, c.req.path, principal) ??
        (principal && principal.via !== "development"
          ? this.limit(this.byCaller, principal.subject)
          : undefined) ??
        // an unknown route is left to its 404/405; it has no body to forge
        (writes && this.policy.match(request.method, c.req.path) ? this.csrf(request) : undefined);
      if (denied) return refuse(denied);
      await next();
    } finally {
      if (writes) await this.audit(c, principal, address, answer);
    }
  }

  private async audit(
    c: Context<GatewayEnv>,
    principal: Principal | undefined,
    address: string | undefined,
    refused: Response | undefined,
  ): Promise<void> {
    if (!this.options.audit) return;
    const status = refused?.status ?? (c.error ? 500 : c.res.status);
    try {
      await this.options.audit.record({
        time: (this.options.now ?? Date.now)(),
        actor: principal?.subject ?? "anonymous",
        role: principal?.role ?? null,
        via: principal?.via ?? null,
        method: c.req.method,
        path: c.req.path.slice(0, 300),
        address: address ?? null,
        status,
        outcome: outcomeOf(status),
      });
    } catch (error) {
      (this.options.onAuditError ?? ((e: unknown) => console.error("audit record not written:", e)))(error);
    }
  }

  /**
   * A WebSocket upgrade: the same authentication (a browser may put the credential in
   * `?access_token=`), `viewer` at least, and an Origin from the allow-list or the node itself.
   * The principal decides which feeds the client may subscribe to.
   */
  async admitFeedClient(request: Request, clientAddress: string | undefined): Promise<Principal | Refusal> {
    const byAddress = this.limit(this.byAddress, clientAddress ?? "unknown");
    if (byAddress) return byAddress;
    const origin = request.headers.get("origin");
    if (origin !== null && !this.origins.acceptable(origin, request.url))
      return refusal(
        403,
        ErrorCodes.FORBIDDEN,
        "WebSocket connections from this Origin are not allowed (see CORS_ORIGINS)",
      );
    const who = await this.authenticate(request, clientAddress, true);
    if (who !== undefined && "status" in who) return who;
    const denied = this.authorize("GET", "/ws", who);
    if (denied) return denied;
    return who as Principal;
  }

  /**
   * Whether a feed client admitted earlier is still admitted: a WebSocket outlives the request
   * that opened it, so a revoked key, an expired token or the end of development mode must end
   * the feed too (Kafka re-authenticates long-lived connections for the same reason). The rate
   * limit is not taken again: this is the node asking, not the client. A JWKS that cannot be
   * reached right now (503) keeps the client: an outage of the issuer is not a revocation.
   */
  async feedClientStillAdmitted(request: Request, clientAddress: string | undefined): Promise<boolean> {
    const who = await this.authenticate(request, clientAddress, true);
    if (isRefusal(who)) return who.status === 503;
    return this.authorize("GET", "/ws", who) === undefined;
  }

  /** whether a feed client may receive a feed */
  static mayReceive(principal: Principal): (feed: keyof typeof FEED_POLICY) => boolean {
    return (feed) => roleAtLeast(principal.role, FEED_POLICY[feed]);
  }
}

function credentialOf(request: Request, allowQueryToken: boolean): string | undefined {
  const authorization = request.headers.get("authorization");
  if (authorization) return BEARER.exec(authorization.trim())?.[1] ?? authorization;
  const key = request.headers.get("x-api-key");
  if (key) return key.trim();
  if (!allowQueryToken) return undefined;
  return new URL(request.url).searchParams.get("access_token") ?? undefined;
}

function messageOf(error: PlatformError): string {
  return error.message.startsWith(`${error.code}: `)
    ? error.message.slice(error.code.length + 2)
    : error.message;
}

export function isRefusal(value: unknown): value is Refusal {
  return typeof value === "object" && value !== null && "status" in value && "code" in value;
}

/** a refusal as the JSON error envelope, for the Bun adapter (upgrades are answered outside Hono) */
export function refusalResponse(r: Refusal): Response {
  return new Response(JSON.stringify({ error: { code: r.code, message: r.message } }), {
    status: r.status,
    headers: { "content-type": "application/json", ...(r.headers ?? {}) },
  });
}
