import { describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { ErrorCodes, isPlatformError } from "../../messages/errors.ts";
import {
  createFieldCipher,
  fieldCipherFromEnv,
  isSealed,
  keyFingerprint,
} from "../../security/field-cipher.ts";

const key = (id: string) => ({ id, key: randomBytes(32) });
const codeOf = (f: () => unknown) => {
  try {
    f();
  } catch (error) {
    return isPlatformError(error) ? error.code : "not a PlatformError";
  }
  return "no error";
};

describe("field cipher (AES-256-GCM)", () => {
  const cipher = createFieldCipher(key("k1"));

  test("a sealed value opens to the plaintext under the same context", () => {
    const sealed = cipher.seal("Ada Lovelace", "sensor-registry/owner/traffic_1");
    expect(isSealed(sealed)).toBe(true);
    expect(sealed).not.toContain("Ada");
    expect(sealed.startsWith("enc:v1:k1:")).toBe(true);
    expect(cipher.open(sealed, "sensor-registry/owner/traffic_1")).toBe("Ada Lovelace");
  });

  test("sealing the same value twice gives two different ciphertexts (a fresh nonce each time)", () => {
    expect(cipher.seal("x", "c")).not.toBe(cipher.seal("x", "c"));
  });

  test.each([
    ["another entity", "sensor-registry/owner/traffic_2"],
    ["another field", "sensor-registry/contact/traffic_1"],
  ])("a value moved to %s does not open", (_, context) => {
    const sealed = cipher.seal("Ada", "sensor-registry/owner/traffic_1");
    expect(codeOf(() => cipher.open(sealed, context))).toBe(ErrorCodes.DECRYPTION_FAILED);
  });

  test("a tampered value does not open", () => {
    const sealed = cipher.seal("Ada", "c");
    const body = Buffer.from(sealed.slice("enc:v1:k1:".length), "base64url");
    body[14]! ^= 1;
    expect(codeOf(() => cipher.open(`enc:v1:k1:${body.toString("base64url")}`, "c"))).toBe(
      ErrorCodes.DECRYPTION_FAILED,
    );
    expect(codeOf(() => cipher.open("enc:v1:k1:AAAA", "c"))).toBe(ErrorCodes.DECRYPTION_FAILED);
  });

  test("a value sealed with a key that is not configured names the key, not the data", () => {
    const other = createFieldCipher(key("k9"));
    const sealed = other.seal("Ada", "c");
    expect(codeOf(() => cipher.open(sealed, "c"))).toBe(ErrorCodes.ENCRYPTION_KEY_UNKNOWN);
  });

  test("after a rotation, values sealed with the old key still open and new ones use the new key", () => {
    const old = key("old");
    const sealedBefore = createFieldCipher(old).seal("Ada", "c");
    const rotated = createFieldCipher(key("new"), [old]);
    expect(rotated.open(sealedBefore, "c")).toBe("Ada");
    expect(rotated.seal("Ada", "c").startsWith("enc:v1:new:")).toBe(true);
  });
});

describe("field cipher from the environment", () => {
  const base64 = randomBytes(32).toString("base64");
  const hex = randomBytes(32).toString("hex");

  test("no DATA_ENCRYPTION_KEY: no cipher (sensitive fields stay as they are)", () => {
    expect(fieldCipherFromEnv({})).toBeUndefined();
  });

  test.each([
    ["base64", base64],
    ["64 hex digits", hex],
  ])("a key in %s is taken, its id is its fingerprint", (_, text) => {
    const cipher = fieldCipherFromEnv({ DATA_ENCRYPTION_KEY: text });
    const bytes = text.length === 64 ? Buffer.from(text, "hex") : Buffer.from(text, "base64");
    expect(cipher?.keyId).toBe(keyFingerprint(bytes));
  });

  test("old keys open what they sealed", () => {
    const oldKey = randomBytes(32).toString("base64");
    const sealed = fieldCipherFromEnv({ DATA_ENCRYPTION_KEY: oldKey, DATA_ENCRYPTION_KEY_ID: "2025" })!.seal(
      "v",
      "c",
    );
    const now = fieldCipherFromEnv({
      DATA_ENCRYPTION_KEY: base64,
      DATA_ENCRYPTION_OLD_KEYS: `2025:${oldKey}`,
    })!;
    expect(now.open(sealed, "c")).toBe("v");
  });

  test.each([
    ["a key of 16 bytes", { DATA_ENCRYPTION_KEY: randomBytes(16).toString("base64") }],
    ["an old key of the wrong size", { DATA_ENCRYPTION_KEY: base64, DATA_ENCRYPTION_OLD_KEYS: "a:c2hvcnQ=" }],
    ["old keys without a current one", { DATA_ENCRYPTION_OLD_KEYS: base64 }],
    ["a key id with a colon", { DATA_ENCRYPTION_KEY: base64, DATA_ENCRYPTION_KEY_ID: "a:b" }],
  ])("%s is refused with CONFIG_INVALID, echoing no key", (_, env) => {
    let message = "";
    expect(
      codeOf(() => {
        try {
          fieldCipherFromEnv(env);
        } catch (error) {
          message = (error as Error).message;
          throw error;
        }
      }),
    ).toBe(ErrorCodes.CONFIG_INVALID);
    expect(message).not.toContain(base64);
  });
});
