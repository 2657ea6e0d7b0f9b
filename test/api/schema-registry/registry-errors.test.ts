import { expect, test } from "bun:test";
import { httpStatusOf, registryErrorBody } from "../../../api/schema-registry/registry-errors.ts";
import { ErrorCodes, PlatformError } from "../../../messages/errors.ts";

// Regression: an unexpected error's own text ("Maximum call stack size exceeded") was echoed.
test("an unexpected error answers Confluent's 50001 without its internal message", () => {
  const body = registryErrorBody(new RangeError("Maximum call stack size exceeded"));
  expect(body).toEqual({ error_code: 50001, message: "Error in the backend data store" });
  expect(httpStatusOf(body.error_code)).toBe(500);
});

const platformCases: Array<[string, PlatformError, number, number]> = [
  [
    "a schema too large",
    new PlatformError(ErrorCodes.PAYLOAD_TOO_LARGE, "Schema is too large", {
      details: { registryErrorCode: 42209 },
    }),
    42209,
    422,
  ],
  ["an invalid schema", new PlatformError(ErrorCodes.SCHEMA_INVALID, "bad"), 42201, 422],
  ["an unknown subject", new PlatformError(ErrorCodes.SUBJECT_NOT_FOUND, "gone"), 40401, 404],
  ["an incompatible schema", new PlatformError(ErrorCodes.SCHEMA_INCOMPATIBLE, "no"), 409, 409],
];
for (const [what, error, code, status] of platformCases) {
  test(`${what} answers ${code} with HTTP ${status} and the message without its platform code`, () => {
    const body = registryErrorBody(error);
    expect([body.error_code, httpStatusOf(body.error_code)]).toEqual([code, status]);
    expect(body.message).not.toMatch(/^[A-Z_]+: /);
  });
}
