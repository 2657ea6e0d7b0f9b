import { expect, test } from "bun:test";
import {
  checkSchemaBounds,
  MAX_SCHEMA_BYTES,
  MAX_SCHEMA_DEPTH,
} from "../../../messages/schema-registry/schema-bounds.ts";

const nested = (levels: number) => `${"[".repeat(levels)}${"]".repeat(levels)}`;

const cases: Array<[string, string, string | undefined]> = [
  ["a flat schema", '{"type":"string"}', undefined],
  ["nesting at the bound", nested(MAX_SCHEMA_DEPTH), undefined],
  ["nesting one past the bound", nested(MAX_SCHEMA_DEPTH + 1), "42201"],
  ["brackets inside strings, which do not nest", `{"description":"${"[{".repeat(5_000)}"}`, undefined],
  ["an escaped quote that does not end the string", `{"d":"\\"${"[".repeat(500)}"}`, undefined],
  ["ASCII text at the size bound", `"${"a".repeat(MAX_SCHEMA_BYTES - 2)}"`, undefined],
  ["ASCII text one byte past the size bound", `"${"a".repeat(MAX_SCHEMA_BYTES - 1)}"`, "42209"],
  // 2 UTF-8 bytes per character: fewer characters than the bound, more bytes
  ["multi-byte text past the size bound in bytes", `"${"é".repeat(MAX_SCHEMA_BYTES / 2)}"`, "42209"],
];
for (const [what, text, code] of cases) {
  test(`${what} is ${code === undefined ? "accepted" : `refused with ${code}`}`, () => {
    if (code === undefined) expect(() => checkSchemaBounds(text)).not.toThrow();
    else {
      let thrown: unknown;
      try {
        checkSchemaBounds(text);
      } catch (error) {
        thrown = error;
      }
      expect((thrown as { details?: { registryErrorCode?: number } }).details?.registryErrorCode).toBe(
        Number(code),
      );
    }
  });
}
