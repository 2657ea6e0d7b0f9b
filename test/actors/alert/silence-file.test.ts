import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { silenceFile } from "../../../actors/alert/silence-file.ts";
import { Silences } from "../../../alerting/silences.ts";
import { isPlatformError } from "../../../messages/errors.ts";

/** The silences a node accepted survive its restart; a damaged file stops the start, never drops them. */
const dir = mkdtempSync(join(tmpdir(), "silence-file-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const silenceFor = (silences: Silences, alertname: string) =>
  silences.create(
    {
      matchers: [{ name: "alertname", value: alertname, isRegex: false, isEqual: true }],
      startsAt: Date.now(),
      endsAt: Date.now() + 3_600_000,
      createdBy: "ops",
      comment: "maintenance",
    },
    Date.now(),
  );

test("no file: nothing restored; a saved set is written whole, then restored by the next start", async () => {
  const path = join(dir, "fresh.json");
  const first = silenceFile(path);
  expect(first.restored).toEqual([]);
  const silences = new Silences(first.restored, { onChange: first.save });
  const a = silenceFor(silences, "disk-low");
  const b = silenceFor(silences, "lag-high");
  await first.flushed();
  expect(existsSync(`${path}.tmp`)).toBe(false);
  const second = silenceFile(path);
  expect(second.restored.map((s) => s.id).sort()).toEqual([a.id, b.id].sort());
});

test.each<[string, string]>([
  ["not JSON", "[{broken"],
  ["not a list of silences", '[{"id": 1}]'],
])("a file that is %s stops the start with CONFIG_INVALID", (_name, text) => {
  const path = join(dir, "damaged.json");
  writeFileSync(path, text);
  let error: unknown;
  try {
    silenceFile(path);
  } catch (e) {
    error = e;
  }
  expect(isPlatformError(error, "CONFIG_INVALID")).toBe(true);
  expect((error as Error).message).toContain("damaged");
  // the file is left for the operator to look at
  expect(readFileSync(path, "utf8")).toBe(text);
});

test("a write that fails rejects flushed(), so the API does not answer a change that is not on disk", async () => {
  const file = silenceFile(join(dir, "no-such-dir", "silences.json"));
  const silences = new Silences(file.restored, { onChange: file.save });
  const errors = console.error;
  console.error = () => {};
  try {
    silenceFor(silences, "disk-low");
    await expect(file.flushed()).rejects.toThrow();
  } finally {
    console.error = errors;
  }
});
