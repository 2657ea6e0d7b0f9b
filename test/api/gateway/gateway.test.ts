import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { ApiKeyStore } from "../../../api/gateway/api-key-store.ts";
import { AuditLog } from "../../../api/gateway/audit-log.ts";
import type { GatewayOptions } from "../../../api/gateway/gateway.ts";
import { jwtVerifier } from "../../../api/gateway/jwt-verifier.ts";
import { openLog } from "../../../log/index.ts";
import type { Log } from "../../../log/log.ts";
import { type ApiUnderTest, startApi } from "../api-fixture.ts";
import { bearer, securedApp } from "./gateway-fixture.ts";

/** Through a real Bun.serve on loopback: what a browser, a script and a flood each get. */
let dir: string;
let log: Log;
let keys: ApiKeyStore;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "gateway-serve-"));
  log = await openLog({ kind: "embedded", path: join(dir, "log.db") });
  keys = await ApiKeyStore.open(log, { refreshMs: 20 });
});
afterAll(async () => {
  await keys.close();
  await log.close();
  rmSync(dir, { recursive: true, force: true });
});

const running: ApiUnderTest[] = [];
const serve = (options: Parameters<typeof startApi>[0] = {}) => {
  const api = startApi(options);
  running.push(api);
  return api;
};
afterEach(async () => {
  for (const api of running.splice(0)) await api.stop();
});

const upgradeHeaders = {
  upgrade: "websocket",
  connection: "Upgrade",
  "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
  "sec-websocket-version": "13",
};

describe("development mode (no credential configured)", () => {
  test("a caller on this machine is admin", async () => {
    const api = serve();
    expect((await fetch(`${api.url}/api/v1/supervision`)).status).toBe(200);
    expect((await fetch(`${api.url}/api/v1/admin/routes`)).status).toBe(200);
  });

  // DNS rebinding: a page at evil.example re-pointed at 127.0.0.1 reaches the socket from loopback
  test("a request for another host name is not this machine's, even over loopback", async () => {
    const api = serve();
    const response = await fetch(`${api.url}/api/v1/supervision`, { headers: { host: "evil.example:3000" } });
    expect(response.status).toBe(401);
  });

  test("a caller elsewhere is nobody", async () => {
    const api = serve();
    const request = () => new Request(`${api.url}/api/v1/sensors`);
    expect(await api.gateway.authenticate(request(), "192.0.2.7")).toBeUndefined();
    expect(await api.gateway.authenticate(request(), "::ffff:127.0.0.1")).toEqual({
      subject: "development",
      role: "admin",
      via: "development",
    });
  });

  test("ends when the first API key exists", async () => {
    const own = await ApiKeyStore.open(log, { topic: "dev-mode-keys", refreshMs: 20 });
    try {
      const api = serve({ gateway: { keys: own } });
      expect((await fetch(`${api.url}/api/v1/sensors`)).status).toBe(200);
      const { key } = await own.create("first", "viewer");
      expect((await fetch(`${api.url}/api/v1/sensors`)).status).toBe(401);
      expect((await fetch(`${api.url}/api/v1/sensors`, { headers: { "x-api-key": key } })).status).toBe(200);
    } finally {
      await own.close();
    }
  });
});

describe("credentials", () => {
  test("a bad key is 401 with a challenge, and the answer does not echo it", async () => {
    const api = serve({ gateway: { keys } });
    await keys.create("someone", "viewer");
    const secret = `smp_0123456789ab_${"S".repeat(43)}`;
    const response = await fetch(`${api.url}/api/v1/sensors`, {
      headers: { authorization: `Bearer ${secret}` },
    });
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toContain("Bearer");
    expect(await response.text()).not.toContain("SSSS");
  });
});

describe("rate limits", () => {
  test("a client over its bucket gets 429 with Retry-After and the error envelope", async () => {
    const api = serve({ gateway: { rateLimit: { perSecond: 1, burst: 3 } } });
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 5; i++) {
      last = await fetch(`${api.url}/api/v1/sensors`);
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    expect(last!.headers.get("retry-after")).toBe("1");
    expect(((await last!.json()) as { error: { code: string } }).error.code).toBe("RATE_LIMITED");
  });

  test("a caller is limited by its key across addresses", async () => {
    const secured = await securedApp({ rateLimit: { perSecond: 1, burst: 2 } });
    try {
      const statuses: number[] = [];
      for (const address of ["192.0.2.1", "192.0.2.2", "192.0.2.3"])
        statuses.push(
          (await secured.request("/api/v1/sensors", { address, headers: bearer(secured.keyOf.viewer) }))
            .status,
        );
      expect(statuses).toEqual([200, 200, 429]);
    } finally {
      await secured.close();
    }
  });
});

describe("CORS, headers and writes from browsers", () => {
  const allowed = "https://console.example";
  test("a listed origin's preflight is answered with its origin; another origin gets none", async () => {
    const api = serve({ gateway: { corsOrigins: [allowed] } });
    const preflight = (origin: string) =>
      fetch(`${api.url}/api/v1/sensors`, {
        method: "OPTIONS",
        headers: {
          origin,
          "access-control-request-method": "GET",
          "access-control-request-headers": "authorization",
        },
      });
    const ok = await preflight(allowed);
    expect(ok.status).toBe(204);
    expect(ok.headers.get("access-control-allow-origin")).toBe(allowed);
    expect(ok.headers.get("access-control-allow-headers")).toContain("authorization");
    const other = await preflight("https://evil.example");
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
    const simple = await fetch(`${api.url}/api/v1/sensors`, { headers: { origin: allowed } });
    expect(simple.headers.get("access-control-allow-origin")).toBe(allowed);
  });

  test("every answer carries the security headers; HSTS only over TLS", async () => {
    const api = serve();
    for (const path of ["/api/v1/sensors", "/nowhere", "/health"]) {
      const response = await fetch(`${api.url}${path}`);
      expect(response.headers.get("x-content-type-options")).toBe("nosniff");
      expect(response.headers.get("x-frame-options")).toBe("DENY");
      expect(response.headers.get("referrer-policy")).toBe("no-referrer");
      expect(response.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
      expect(response.headers.get("strict-transport-security")).toBeNull();
    }
    const docs = await fetch(`${api.url}/docs`);
    expect(docs.headers.get("content-security-policy")).toContain("https://cdn.jsdelivr.net");
  });

  test.each([
    ["text/plain", { "content-type": "text/plain" }, 415],
    ["a form", { "content-type": "application/x-www-form-urlencoded" }, 415],
    ["multipart", { "content-type": "multipart/form-data; boundary=x" }, 415],
    ["no content type", {}, 415],
    ["a foreign Origin", { "content-type": "application/json", origin: "https://evil.example" }, 403],
    ["a listed Origin", { "content-type": "application/json", origin: allowed }, 400],
    ["the node's own Origin", { "content-type": "application/json", origin: "SELF" }, 400],
    ["a script's JSON (no Origin)", { "content-type": "application/json" }, 400],
  ] as const)("a write with %s is %d", async (_name, headers, status) => {
    const api = serve({ gateway: { corsOrigins: [allowed] } });
    const resolved = Object.fromEntries(
      Object.entries(headers).map(([k, v]) => [k, v === "SELF" ? api.url : v]),
    ) as Record<string, string>;
    // 400: through the gateway to the route, which wants a name and a role
    const response = await fetch(`${api.url}/api/v1/admin/api-keys`, {
      method: "POST",
      headers: resolved,
      body: new Blob(["name=x"]),
    });
    expect(response.status).toBe(status);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBeString();
  });
});

describe("WebSocket feeds", () => {
  test("an upgrade without a credential is 401, from a foreign Origin 403, and with one it opens", async () => {
    const { key } = await keys.create("feeds", "viewer");
    const api = serve({ gateway: { keys } });
    const ws = api.url.replace(/^http/, "ws");
    const anonymous = await fetch(`${api.url}/ws`, { headers: upgradeHeaders });
    expect(anonymous.status).toBe(401);
    const foreign = await fetch(`${api.url}/ws?access_token=${key}`, {
      headers: { ...upgradeHeaders, origin: "https://evil.example" },
    });
    expect(foreign.status).toBe(403);

    const socket = new WebSocket(`${ws}/ws?access_token=${key}`);
    const replies: { type: string; code?: string; feeds?: string[] }[] = [];
    socket.onmessage = (event) => replies.push(JSON.parse(String(event.data)));
    await new Promise<void>((resolve, reject) => {
      socket.onopen = () => resolve();
      socket.onerror = () => reject(new Error("did not open"));
    });
    socket.send(JSON.stringify({ op: "subscribe", feeds: ["supervisor"] }));
    socket.send(JSON.stringify({ op: "subscribe", feeds: ["readings"] }));
    while (replies.length < 2) await Bun.sleep(5);
    expect(replies[0]).toMatchObject({ type: "error", code: "FORBIDDEN" });
    expect(replies[1]).toEqual({ type: "subscribed", feeds: ["readings"] });
    socket.close();
  });

  test("an operator's token opens the supervisor feed", async () => {
    const { key } = await keys.create("ops", "operator");
    const api = serve({ gateway: { keys } });
    const socket = new WebSocket(`${api.url.replace(/^http/, "ws")}/ws`, {
      headers: { authorization: `Bearer ${key}` },
    } as unknown as string[]);
    const replies: { type: string }[] = [];
    socket.onmessage = (event) => replies.push(JSON.parse(String(event.data)));
    await new Promise<void>((resolve) => {
      socket.onopen = () => resolve();
    });
    socket.send(JSON.stringify({ op: "subscribe", feeds: ["supervisor", "dead-letters"] }));
    while (replies.length < 1) await Bun.sleep(5);
    expect(replies[0]).toEqual({ type: "subscribed", feeds: ["supervisor", "dead-letters"] } as never);
    socket.close();
  });
});

/** resolves with the close, or fails the test when the socket is still open after `withinMs` */
function closeOf(socket: WebSocket, withinMs: number): Promise<{ code: number; reason: string }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`still open after ${withinMs} ms`)), withinMs);
    socket.onclose = (event) => {
      clearTimeout(timer);
      resolve({ code: event.code, reason: event.reason });
    };
  });
}

describe("a feed client whose credential ends", () => {
  // regression: a revoked key's WebSocket kept receiving readings for as long as it stayed open
  const cases: {
    name: string;
    connect: (store: ApiKeyStore) => Promise<{
      url: (ws: string) => string;
      end: () => Promise<void>;
      gateway?: Omit<GatewayOptions, "keys">;
    }>;
  }[] = [
    {
      name: "a revoked API key",
      connect: async (store) => {
        const { key, info } = await store.create("revoked-later", "viewer");
        return {
          url: (ws) => `${ws}/ws?access_token=${key}`,
          end: async () => void (await store.revoke(info.id)),
        };
      },
    },
    {
      name: "development mode, once the first key is created",
      connect: async (store) => ({
        url: (ws) => `${ws}/ws`,
        end: async () => void (await store.create("the first key", "admin")),
      }),
    },
    {
      name: "a token past its exp",
      connect: async () => {
        const { privateKey, publicKey } = await generateKeyPair("ES256");
        const jwksFile = join(dir, `jwks-${crypto.randomUUID()}.json`);
        const jwk = { ...(await exportJWK(publicKey)), kid: "k1", alg: "ES256", use: "sig" };
        writeFileSync(jwksFile, JSON.stringify({ keys: [jwk] }));
        const expiresAt = Math.floor(Date.now() / 1000) + 3;
        const token = await new SignJWT({ role: "viewer" })
          .setProtectedHeader({ alg: "ES256", kid: "k1" })
          .setSubject("soon-expired")
          .setIssuer("https://issuer.test")
          .setAudience("streaming-ml")
          .setIssuedAt()
          .setExpirationTime(expiresAt)
          .sign(privateKey);
        return {
          url: (ws) => `${ws}/ws?access_token=${token}`,
          // nothing to do: the token ends by itself
          end: async () => undefined,
          gateway: {
            jwt: jwtVerifier({
              jwksFile,
              issuer: "https://issuer.test",
              audience: "streaming-ml",
              clockToleranceSeconds: 0,
            }),
          },
        };
      },
    },
  ];
  test.each(cases)("is closed with 1008 and gets nothing more: $name", async ({ connect }) => {
    const store = await ApiKeyStore.open(log, {
      topic: `feed-credential-${crypto.randomUUID()}`,
      refreshMs: 20,
    });
    try {
      const { url, end, gateway } = await connect(store);
      const api = serve({ gateway: { keys: store, ...gateway }, feedCheckMs: 20 });
      const socket = new WebSocket(url(api.url.replace(/^http/, "ws")));
      const replies: string[] = [];
      socket.onmessage = (event) => replies.push(String(event.data));
      await new Promise<void>((resolve, reject) => {
        socket.onopen = () => resolve();
        socket.onerror = () => reject(new Error("did not open"));
      });
      socket.send(JSON.stringify({ op: "subscribe", feeds: ["readings"] }));
      while (api.feeds.clientCount === 0 || replies.length < 1) await Bun.sleep(5);
      expect(JSON.parse(replies[0]!)).toEqual({ type: "subscribed", feeds: ["readings"] });

      const closed = closeOf(socket, 10_000);
      await end();
      expect(await closed).toEqual({ code: 1008, reason: expect.stringContaining("revoked or has expired") });
      expect(api.feeds.clientCount).toBe(0);
      api.feeds.publish("readings", { sensor_id: "after-the-end" });
      expect(replies.join("\n")).not.toContain("after-the-end");
    } finally {
      await store.close();
    }
  });

  test("a valid key's feed client stays open across the checks", async () => {
    const { key } = await keys.create("still-valid", "viewer");
    const api = serve({ gateway: { keys }, feedCheckMs: 5 });
    const socket = new WebSocket(`${api.url.replace(/^http/, "ws")}/ws?access_token=${key}`);
    const replies: string[] = [];
    socket.onmessage = (event) => replies.push(String(event.data));
    await new Promise<void>((resolve) => {
      socket.onopen = () => resolve();
    });
    socket.send(JSON.stringify({ op: "subscribe", feeds: ["readings"] }));
    while (replies.length < 1) await Bun.sleep(5);
    // the checks run on the server's timer: wait for the hub to have judged it many times over
    await Bun.sleep(200);
    api.feeds.publish("readings", { sensor_id: "still-here" });
    while (replies.length < 2) await Bun.sleep(5);
    expect(replies[1]).toContain("still-here");
    expect(socket.readyState).toBe(WebSocket.OPEN);
    socket.close();
  });
});

describe("the audit trail", () => {
  test("records each write with who, what, where and the result, newest first, and no reads", async () => {
    const trail = await AuditLog.open(log, "audit-under-test");
    const { key } = await keys.create("auditor", "admin");
    const api = serve({ gateway: { keys, audit: trail } });
    const admin = { authorization: `Bearer ${key}`, "content-type": "application/json" };
    await fetch(`${api.url}/api/v1/sensors`, { headers: admin });
    await fetch(`${api.url}/api/v1/admin/api-keys`, {
      method: "POST",
      headers: admin,
      body: JSON.stringify({ name: "x", role: "viewer" }),
    });
    await fetch(`${api.url}/api/v1/admin/api-keys/0123456789ab`, { method: "DELETE", headers: admin });
    await fetch(`${api.url}/api/v1/admin/api-keys/0123456789ab`, { method: "DELETE" });
    const { records, total } = await trail.read({ limit: 10, offset: 0 });
    expect(total).toBe(3);
    expect(records.map((r) => [r.method, r.path, r.status, r.outcome, r.role])).toEqual([
      ["DELETE", "/api/v1/admin/api-keys/0123456789ab", 401, "denied", null],
      ["DELETE", "/api/v1/admin/api-keys/0123456789ab", 404, "refused", "admin"],
      ["POST", "/api/v1/admin/api-keys", 201, "done", "admin"],
    ]);
    expect(records[2]!.actor).toMatch(/^key:[0-9a-f]{12}:auditor$/);
    expect(records[2]!.address).toBe("127.0.0.1");
    expect(JSON.stringify(records)).not.toContain(key);
    const older = await trail.read({ limit: 2, offset: 1 });
    expect(older.records.map((r) => r.status)).toEqual([404, 201]);
  });
});
