import { afterEach, beforeEach, expect, spyOn, test } from "bun:test";
import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import { NodeFailures } from "../../node/failures.ts";

let said: string[] = [];
let restore: () => void;
beforeEach(() => {
  said = [];
  const spy = spyOn(console, "error").mockImplementation((line: unknown) => void said.push(String(line)));
  restore = () => spy.mockRestore();
});
afterEach(() => restore());

// regression, found probing a running node: a markets checkpoint whose symbol actors did not
// answer within 30 s (DRAIN_TIMEOUT, which the aggregates engine retries at the next checkpoint)
// reached the node as a transient error and failed the whole node: /health 503, ingest 0/s for good
test.each([
  [ErrorCodes.DRAIN_TIMEOUT, "10 of 10 changed aggregates did not answer the checkpoint within 30000 ms"],
  [ErrorCodes.LOG_BROKER_UNAVAILABLE, "broker away"],
  [ErrorCodes.LOG_REBALANCE, "rebalancing"],
  [ErrorCodes.INFRA_UNAVAILABLE, "no route"],
])("an error its part retries (%s) is said, at most every 5 s, and never fails the node", (code, message) => {
  const failures = new NodeFailures();
  for (let i = 0; i < 3; i++) failures.retrying(new PlatformError(code, message));
  expect(failures.fatal).toBeUndefined();
  expect(said).toHaveLength(1);
  expect(said[0]).toContain(message);
});

test.each([
  ["a schema violation", new PlatformError(ErrorCodes.SCHEMA_VIOLATION, "bad record"), true],
  ["a plain error", new Error("bug"), true],
  ["the broker away", new PlatformError(ErrorCodes.LOG_BROKER_UNAVAILABLE, "away"), false],
])("the log failing with %s fails the node: %p", (_, error, fatal) => {
  const failures = new NodeFailures();
  failures.logUnavailable(error);
  expect(failures.fatal !== undefined).toBe(fatal);
});
