import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import { ErrorCodes, PlatformError } from "../messages/errors.ts";

/**
 * Field encryption at rest: AES-256-GCM (NIST SP 800-38D) with a fresh 96-bit nonce per value and
 * the field's context (which table, which field, which entity) as additional authenticated data,
 * so a sealed value cannot be moved to another field or another entity's record unnoticed.
 *
 * A sealed value is a string, so it fits any JSON field:
 *
 *   enc:v1:<key id>:<base64url( nonce (12 bytes) | ciphertext | tag (16 bytes) )>
 *
 * The key id names the key that sealed it: keys rotate by making a new key current and keeping
 * the old ones for reading (`DATA_ENCRYPTION_OLD_KEYS`) until everything sealed with them was
 * rewritten (a compacted topic rewrites a row each time it is published again) or deleted. Without
 * a configured id, a key's id is the start of its SHA-256 fingerprint (never the key itself).
 */
export interface FieldCipher {
  /** the id of the key new values are sealed with */
  readonly keyId: string;
  seal(plaintext: string, context: string): string;
  /** DECRYPTION_FAILED (tampered, wrong context), ENCRYPTION_KEY_UNKNOWN (a key not configured) */
  open(sealed: string, context: string): string;
}

export interface EncryptionKey {
  readonly id: string;
  /** 32 bytes */
  readonly key: Uint8Array;
}

const PREFIX = "enc:v1:";
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

export function isSealed(value: unknown): value is string {
  return typeof value === "string" && value.startsWith(PREFIX);
}

export function createFieldCipher(
  current: EncryptionKey,
  previous: readonly EncryptionKey[] = [],
): FieldCipher {
  const keys = new Map<string, Uint8Array>();
  for (const k of [...previous, current]) {
    if (k.key.length !== 32)
      throw new PlatformError(ErrorCodes.CONFIG_INVALID, `encryption key ${k.id} is not 32 bytes (AES-256)`);
    if (!/^[A-Za-z0-9_-]{1,32}$/.test(k.id))
      throw new PlatformError(
        ErrorCodes.CONFIG_INVALID,
        "an encryption key id is 1-32 letters, digits, '_' or '-'",
      );
    keys.set(k.id, k.key);
  }
  return {
    keyId: current.id,
    seal(plaintext, context) {
      const nonce = randomBytes(NONCE_BYTES);
      const cipher = createCipheriv("aes-256-gcm", current.key, nonce);
      cipher.setAAD(Buffer.from(context, "utf8"));
      const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
      const sealed = Buffer.concat([nonce, body, cipher.getAuthTag()]);
      return `${PREFIX}${current.id}:${sealed.toString("base64url")}`;
    },
    open(sealed, context) {
      if (!isSealed(sealed)) throw new PlatformError(ErrorCodes.DECRYPTION_FAILED, "not a sealed value");
      const rest = sealed.slice(PREFIX.length);
      const colon = rest.indexOf(":");
      const id = rest.slice(0, Math.max(0, colon));
      const key = keys.get(id);
      if (colon < 0 || !key)
        throw new PlatformError(
          ErrorCodes.ENCRYPTION_KEY_UNKNOWN,
          `sealed with key ${id.slice(0, 32) || "(none)"}, which is not configured (DATA_ENCRYPTION_KEY, DATA_ENCRYPTION_OLD_KEYS)`,
        );
      const bytes = Buffer.from(rest.slice(colon + 1), "base64url");
      if (bytes.length < NONCE_BYTES + TAG_BYTES)
        throw new PlatformError(
          ErrorCodes.DECRYPTION_FAILED,
          "a sealed value too short to hold a nonce and a tag",
        );
      try {
        const decipher = createDecipheriv("aes-256-gcm", key, bytes.subarray(0, NONCE_BYTES));
        decipher.setAAD(Buffer.from(context, "utf8"));
        decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
        return Buffer.concat([
          decipher.update(bytes.subarray(NONCE_BYTES, bytes.length - TAG_BYTES)),
          decipher.final(),
        ]).toString("utf8");
      } catch (cause) {
        // GCM says only "unable to authenticate": tampered, or sealed for another field or entity
        throw new PlatformError(ErrorCodes.DECRYPTION_FAILED, "a sealed value failed authentication", {
          cause,
        });
      }
    },
  };
}

/** the id a key gets when none is configured: 8 hex digits of its SHA-256 fingerprint */
export function keyFingerprint(key: Uint8Array): string {
  return createHash("sha256").update(key).digest("hex").slice(0, 8);
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * DATA_ENCRYPTION_KEY: 32 bytes, base64 (or base64url) or 64 hex digits; DATA_ENCRYPTION_KEY_ID
 * (optional); DATA_ENCRYPTION_OLD_KEYS: `id:key,id:key` (or bare keys, ids by fingerprint) still
 * accepted for reading. Unset: undefined, and sensitive fields are stored as they are.
 */
export function fieldCipherFromEnv(env: Env = process.env): FieldCipher | undefined {
  const raw = env.DATA_ENCRYPTION_KEY?.trim();
  if (!raw) {
    if (env.DATA_ENCRYPTION_OLD_KEYS?.trim())
      throw new PlatformError(
        ErrorCodes.CONFIG_INVALID,
        "DATA_ENCRYPTION_OLD_KEYS needs a DATA_ENCRYPTION_KEY",
      );
    return undefined;
  }
  const key = decodeKey(raw, "DATA_ENCRYPTION_KEY");
  const current = { id: env.DATA_ENCRYPTION_KEY_ID?.trim() || keyFingerprint(key), key };
  const previous = (env.DATA_ENCRYPTION_OLD_KEYS ?? "")
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0)
    .map((entry) => {
      const colon = entry.indexOf(":");
      const old = decodeKey(colon < 0 ? entry : entry.slice(colon + 1), "DATA_ENCRYPTION_OLD_KEYS");
      return { id: colon < 0 ? keyFingerprint(old) : entry.slice(0, colon), key: old };
    });
  return createFieldCipher(current, previous);
}

function decodeKey(text: string, variable: string): Uint8Array {
  const bytes = /^[0-9a-fA-F]{64}$/.test(text) ? Buffer.from(text, "hex") : Buffer.from(text, "base64");
  // the message says what is wrong with the key, never what it is
  if (bytes.length !== 32)
    throw new PlatformError(
      ErrorCodes.CONFIG_INVALID,
      `${variable} must be 32 random bytes as base64 or 64 hex digits (openssl rand -base64 32)`,
    );
  return bytes;
}
