import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import { jwtVerifier } from "../../../api/gateway/jwt-verifier.ts";
import { ErrorCodes, isPlatformError } from "../../../messages/errors.ts";

const ISSUER = "https://issuer.test";
const AUDIENCE = "streaming-ml";

interface SigningKey {
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly jwk: JWK;
}

async function signingKey(kid: string): Promise<SigningKey> {
  const { publicKey, privateKey } = await generateKeyPair("ES256", { extractable: true });
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: "ES256", use: "sig" } };
}

function token(
  key: SigningKey,
  claims: Record<string, unknown> = {},
  options: { exp?: string; iss?: string; aud?: string } = {},
) {
  return new SignJWT({ roles: ["viewer"], ...claims })
    .setProtectedHeader({ alg: "ES256", kid: key.kid })
    .setSubject("alice")
    .setIssuer(options.iss ?? ISSUER)
    .setAudience(options.aud ?? AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(options.exp ?? "5m")
    .sign(key.privateKey);
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

let dir: string;
let jwksFile: string;
let first: SigningKey;
let next: SigningKey;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "jwt-"));
  jwksFile = join(dir, "jwks.json");
  first = await signingKey("key-1");
  next = await signingKey("key-2");
  writeFileSync(jwksFile, JSON.stringify({ keys: [first.jwk] }));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("a JWT verified against a JWKS file", () => {
  const verifier = () => jwtVerifier({ jwksFile, issuer: ISSUER, audience: AUDIENCE });

  test.each([
    ["roles [viewer]", { roles: ["viewer"] }, "viewer"],
    ["role operator", { role: "operator", roles: [] }, "operator"],
    ["the strongest of several", { roles: ["viewer", "admin", "nonsense"] }, "admin"],
  ])("with %s is that role", async (_name, claims, role) => {
    const principal = await verifier().verify(await token(first, claims));
    expect(principal).toEqual({ subject: "jwt:alice", role: role as "viewer", via: "jwt" });
  });

  const refused: [string, () => Promise<string>, string, RegExp][] = [
    ["an expired token", () => token(first, {}, { exp: "-5m" }), ErrorCodes.UNAUTHORIZED, /expired/],
    ["another issuer", () => token(first, {}, { iss: "https://other" }), ErrorCodes.UNAUTHORIZED, /'iss'/],
    ["another audience", () => token(first, {}, { aud: "other" }), ErrorCodes.UNAUTHORIZED, /'aud'/],
    ["an unknown key", () => token(next), ErrorCodes.UNAUTHORIZED, /no key/],
    [
      "alg none",
      async () =>
        `${b64({ alg: "none" })}.${b64({ sub: "x", iss: ISSUER, aud: AUDIENCE, roles: ["admin"], exp: 9e9 })}.`,
      ErrorCodes.UNAUTHORIZED,
      /./,
    ],
    [
      "a forged signature",
      async () => {
        const [h, , s] = (await token(first)).split(".");
        return `${h}.${b64({ sub: "x", iss: ISSUER, aud: AUDIENCE, roles: ["admin"], exp: 9e9 })}.${s}`;
      },
      ErrorCodes.UNAUTHORIZED,
      /signature/,
    ],
    ["no role at all", () => token(first, { roles: [] }), ErrorCodes.FORBIDDEN, /no role/],
    ["not a JWT", async () => "garbage", ErrorCodes.UNAUTHORIZED, /not a valid JWT/],
  ];
  test.each(refused)("refuses %s", async (_name, make, code, message) => {
    const error = await verifier()
      .verify(await make())
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(isPlatformError(error) ? error.code : error).toBe(code);
    expect((error as Error).message).toMatch(message);
  });

  test("picks up a rotated key when the file changes", async () => {
    const rotating = join(dir, "rotating.json");
    writeFileSync(rotating, JSON.stringify({ keys: [first.jwk] }));
    const v = jwtVerifier({ jwksFile: rotating, issuer: ISSUER, audience: AUDIENCE });
    await expect(v.verify(await token(next))).rejects.toThrow(/no key/);
    await Bun.sleep(20); // a different modification time
    writeFileSync(rotating, JSON.stringify({ keys: [first.jwk, next.jwk] }));
    expect((await v.verify(await token(next))).role).toBe("viewer");
    expect((await v.verify(await token(first))).role).toBe("viewer");
  });
});

describe("a JWT verified against a JWKS URL", () => {
  test("fetches the issuer's keys, and fetches again for a key it has not seen (rotation)", async () => {
    let keys = [first.jwk];
    let fetches = 0;
    const issuer = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: () => {
        fetches++;
        return Response.json({ keys });
      },
    });
    try {
      const v = jwtVerifier({
        jwksUrl: `http://127.0.0.1:${issuer.port}/jwks.json`,
        issuer: ISSUER,
        audience: AUDIENCE,
        refetchCooldownMs: 0,
      });
      expect((await v.verify(await token(first))).subject).toBe("jwt:alice");
      keys = [first.jwk, next.jwk];
      expect((await v.verify(await token(next, { roles: ["operator"] }))).role).toBe("operator");
      expect(fetches).toBe(2);
    } finally {
      await issuer.stop(true);
    }
  });

  test("an issuer that cannot be reached is INFRA_UNAVAILABLE, not the caller's fault", async () => {
    const closed = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("") });
    const port = closed.port;
    await closed.stop(true);
    const v = jwtVerifier({
      jwksUrl: `http://127.0.0.1:${port}/jwks.json`,
      issuer: ISSUER,
      audience: AUDIENCE,
    });
    const error = await v.verify(await token(first)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isPlatformError(error) ? error.code : error).toBe(ErrorCodes.INFRA_UNAVAILABLE);
  });
});
