import { expect, test } from "bun:test";
import { recordJson } from "../../testkit/window-audit.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const framed = (json: string) => new Uint8Array([0, 0, 0, 0, 7, ...encoder.encode(json)]);

test.each([
  { case: "a framed record (schema registry header): the JSON after the header", bytes: framed('{"a":1}') },
  {
    case: "an unframed record (a late reading as the router writes it): the whole JSON (regression: its first 5 bytes were cut, no late reading was ever counted)",
    bytes: encoder.encode('{"a":1}'),
  },
])("$case", ({ bytes }) => {
  expect(recordJson(decoder, bytes)).toEqual({ a: 1 });
});

test("bytes that are not JSON either way fail to parse", () => {
  expect(() => recordJson(decoder, encoder.encode("not json"))).toThrow(SyntaxError);
});
