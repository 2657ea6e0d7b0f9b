import { expect, test } from "bun:test";
import { labelsFingerprint } from "../../../actors/alert/fingerprint.ts";

// the empty set hashes to FNV-1a 64's offset basis; that the others equal Alertmanager's own is
// checked against the real Alertmanager in test/sinks/alertmanager-push.test.ts
test("the fingerprint of no labels is FNV-1a 64's offset basis", () => {
  expect(labelsFingerprint({})).toBe("cbf29ce484222325");
});

test("the fingerprint does not depend on the order of the labels", () => {
  expect(labelsFingerprint({ a: "1", b: "2" })).toBe(labelsFingerprint({ b: "2", a: "1" }));
  expect(labelsFingerprint({ a: "1", b: "2" })).not.toBe(labelsFingerprint({ a: "2", b: "1" }));
});
