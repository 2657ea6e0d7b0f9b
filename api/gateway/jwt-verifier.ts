import { readFile, stat } from "node:fs/promises";
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
} from "jose";
import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import type { Principal } from "./principal.ts";
import { strongestRole } from "./roles.ts";

/**
 * Bearer JWTs verified with jose against a JWKS: signature, `iss`, `aud`, `exp`/`nbf` (with a
 * small clock tolerance) and an asymmetric algorithm (an `alg: none` or HS256 token signed with
 * a public key is refused). The role is the strongest of the `role` claim and the `roles` array.
 *
 * Key rotation: a remote JWKS (JWT_JWKS_URL) is fetched again when a token names a `kid` it does
 * not hold (jose's cooldown bounds how often), so the issuer can publish the next key before it
 * signs with it. A file JWKS (JWT_JWKS_FILE) is read again when its modification time changes.
 */
export interface JwtSettings {
  readonly jwksUrl?: string;
  readonly jwksFile?: string;
  readonly issuer: string;
  readonly audience: string;
  readonly clockToleranceSeconds?: number;
  /**
   * a token with an unknown `kid` fetches the JWKS again at most this often (jose's cooldown;
   * default 30 s): an issuer publishes its next key at least this long before signing with it
   */
  readonly refetchCooldownMs?: number;
}

export const JWT_ALGORITHMS = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "EdDSA",
];

export interface JwtVerifier {
  /** the caller the token names; UNAUTHORIZED for a bad token, FORBIDDEN for one without a role */
  verify(token: string): Promise<Principal>;
}

function fileKeySet(path: string): JWTVerifyGetKey {
  let loaded: { mtimeMs: number; keys: JWTVerifyGetKey } | undefined;
  return async (header, token) => {
    const { mtimeMs } = await stat(path);
    if (!loaded || loaded.mtimeMs !== mtimeMs) {
      const json = JSON.parse(await readFile(path, "utf8")) as JSONWebKeySet;
      loaded = { mtimeMs, keys: createLocalJWKSet(json) };
    }
    return loaded.keys(header, token);
  };
}

const unauthorized = (message: string, cause?: unknown) =>
  new PlatformError(ErrorCodes.UNAUTHORIZED, message, cause === undefined ? {} : { cause });

/** why a token failed, in words that name no key material */
function reasonOf(error: unknown): string {
  if (error instanceof errors.JWTExpired) return "the token has expired";
  if (error instanceof errors.JWTClaimValidationFailed)
    return `the token's '${error.claim}' claim is not accepted`;
  if (error instanceof errors.JWKSNoMatchingKey) return "no key of the issuer matches the token";
  if (error instanceof errors.JOSEAlgNotAllowed) return "the token's algorithm is not accepted";
  if (error instanceof errors.JWSSignatureVerificationFailed) return "the token's signature does not verify";
  return "the token is not a valid JWT";
}

export function jwtVerifier(settings: JwtSettings): JwtVerifier {
  const keys = settings.jwksUrl
    ? createRemoteJWKSet(new URL(settings.jwksUrl), {
        cooldownDuration: settings.refetchCooldownMs ?? 30_000,
        timeoutDuration: 5000,
      })
    : settings.jwksFile
      ? fileKeySet(settings.jwksFile)
      : undefined;
  if (!keys)
    throw new PlatformError(
      ErrorCodes.CONFIG_INVALID,
      "JWT verification needs JWT_JWKS_URL or JWT_JWKS_FILE",
    );
  return {
    async verify(token) {
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, keys, {
          issuer: settings.issuer,
          audience: settings.audience,
          algorithms: JWT_ALGORITHMS,
          clockTolerance: settings.clockToleranceSeconds ?? 30,
          requiredClaims: ["exp", "sub"],
        }));
      } catch (error) {
        // the issuer's keys could not be had (timeout, bad JWKS): not the caller's fault
        const keysMissing = error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid;
        if (error instanceof errors.JOSEError && !keysMissing) throw unauthorized(reasonOf(error), error);
        // a refused connection surfaces as fetch's TypeError, a missing file as ENOENT
        throw new PlatformError(ErrorCodes.INFRA_UNAVAILABLE, "the token issuer's keys cannot be read", {
          cause: error,
        });
      }
      const roles = Array.isArray(payload.roles) ? payload.roles : [];
      const role = strongestRole([payload.role, ...roles]);
      if (!role)
        throw new PlatformError(ErrorCodes.FORBIDDEN, "the token carries no role (viewer, operator, admin)");
      return { subject: `jwt:${String(payload.sub).slice(0, 100)}`, role, via: "jwt" };
    },
  };
}
