import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openLog } from "../../log/index.ts";
import type { Log } from "../../log/log.ts";
import { ErrorCodes, isPlatformError } from "../../messages/errors.ts";
import { platformSchemas, subjectOf } from "../../messages/platform-schemas.ts";
import { Topics } from "../../messages/topics.ts";
import { registerOwnSubjects } from "../../registries/own-subjects.ts";
import { SchemaRegistry } from "../../registries/schema-registry.ts";

const ours = { type: "object", properties: { id: { type: "string" } }, required: ["id"] };
// `id` as a number: records written with it cannot be read with `ours` (BACKWARD fails)
const theirs = { type: "object", properties: { id: { type: "number" } }, required: ["id"] };
const SUBJECT = "city.sensors.raw-value";

let dir: string;
let log: Log;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "own-subjects-"));
  log = await openLog({ kind: "embedded", path: join(dir, "log.db") });
});
afterEach(async () => {
  await log.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("the node's own subjects", () => {
  test("are registered and protected from soft and hard deletes, of the subject and of a version", async () => {
    const registry = await SchemaRegistry.open(log);
    const own = await registerOwnSubjects(registry, { [SUBJECT]: ours });
    expect(own.warnings).toEqual([]);
    const attempts = [
      () => registry.deleteSubject(SUBJECT),
      () => registry.deleteSubject(SUBJECT, true),
      () => registry.deleteVersion(SUBJECT, 1),
      () => registry.deleteVersion(SUBJECT, "latest", true),
    ];
    for (const attempt of attempts) {
      const error = await attempt().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isPlatformError(error, ErrorCodes.SUBJECT_PROTECTED)).toBe(true);
    }
    expect(registry.versions(SUBJECT)).toEqual([1]);
  });

  test("another subject keeps Confluent's soft then hard delete", async () => {
    const registry = await SchemaRegistry.open(log);
    await registerOwnSubjects(registry, { [SUBJECT]: ours });
    await registry.register("other-value", JSON.stringify(ours), { schemaType: "JSON" });
    await expect(registry.deleteSubject("other-value", true)).rejects.toThrow(/not deleted first/);
    expect(await registry.deleteSubject("other-value")).toEqual([1]);
    expect(registry.subjects()).not.toContain("other-value");
    expect(registry.subjects(true)).toContain("other-value");
    expect(await registry.deleteSubject("other-value", true)).toEqual([1]);
    expect(registry.subjects(true)).not.toContain("other-value");
  });

  // Regression: DELETE of the subject then POST of another schema, and the node could not start
  // again (SCHEMA_INCOMPATIBLE). Such a registry (made before protection, or by a registry that
  // does not protect) now starts: the node writes with its schema's earlier id and says the fix.
  test("a node whose subject now ends with an incompatible schema keeps writing with its earlier id", async () => {
    const before = await SchemaRegistry.open(log);
    const first = await registerOwnSubjects(before, { [SUBJECT]: ours });
    const ourId = first.ids.get(SUBJECT)!;
    const unprotected = await SchemaRegistry.open(log);
    await unprotected.deleteSubject(SUBJECT);
    await unprotected.register(SUBJECT, JSON.stringify(theirs), { schemaType: "JSON" });

    const restarted = await SchemaRegistry.open(log);
    const own = await registerOwnSubjects(restarted, { [SUBJECT]: ours });
    expect(own.ids.get(SUBJECT)).toBe(ourId);
    expect(own.warnings).toHaveLength(1);
    expect(own.warnings[0]).toContain(`schema id ${ourId}`);
    expect(own.warnings[0]).toContain(`PUT /schema-registry/config/${SUBJECT}`);
    expect(await own.source.register(SUBJECT, JSON.stringify(ours), { schemaType: "JSON" })).toEqual({
      id: ourId,
    });
    expect(own.source.schemaById(ourId).schemaType).toBe("JSON");
  });

  test("with its schema never registered under the subject, the start fails with what to do", async () => {
    const registry = await SchemaRegistry.open(log);
    await registry.register(SUBJECT, JSON.stringify(theirs), { schemaType: "JSON" });
    const error = await registerOwnSubjects(await SchemaRegistry.open(log), { [SUBJECT]: ours }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isPlatformError(error, ErrorCodes.SCHEMA_INCOMPATIBLE)).toBe(true);
    expect((error as Error).message).toContain(`PUT /schema-registry/config/${SUBJECT}`);
  });

  test("the fix it names works: level NONE, restart, and the platform's schema is the latest again", async () => {
    const registry = await SchemaRegistry.open(log);
    await registry.register(SUBJECT, JSON.stringify(theirs), { schemaType: "JSON" });
    await registry.setCompatibility(SUBJECT, "NONE");
    const own = await registerOwnSubjects(await SchemaRegistry.open(log), { [SUBJECT]: ours });
    expect(own.warnings).toEqual([]);
    expect(registry.version(SUBJECT, "latest").id).not.toBe(own.ids.get(SUBJECT));
    const reread = await SchemaRegistry.open(log);
    expect(reread.version(SUBJECT, "latest").id).toBe(own.ids.get(SUBJECT)!);
  });
});

describe("the dead-letter schema", () => {
  test("stays compatible when an error code is added or retired (regression: an enum of codes made a node with one code less unable to start)", async () => {
    const registry = await SchemaRegistry.open(log);
    const subject = subjectOf(Topics.deadLetters);
    const current = platformSchemas()[subject]!;
    // what a registry holds from a build with one more code, as an enum (the old schema)
    const older = structuredClone(current) as { properties: { code: Record<string, unknown> } };
    older.properties.code = { type: "string", enum: [...Object.values(ErrorCodes), "RETIRED_CODE"] };
    await registry.register(subject, JSON.stringify(older), { schemaType: "JSON" });
    const own = await registerOwnSubjects(registry, { [subject]: current });
    expect(own.warnings).toEqual([]);
    expect(registry.versions(subject)).toEqual([1, 2]);
  });
});
