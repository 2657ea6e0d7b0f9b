import { expect, test } from "bun:test";
import { join } from "node:path";
import { readImportGraph, runtimeCycles } from "../testkit/import-graph.ts";

/**
 * ARCHITECTURE.md's arrows, held: data flows one way (sources -> log -> actors -> sinks -> API),
 * so a folder imports only what its row of the folder table says it knows, and no files import
 * each other round a circle. Read from the sources, `import type` included.
 */
const graph = await readImportGraph(join(import.meta.dir, ".."));

const folderOf = (path: string) => path.split("/")[0]!;
const isFile = (specifier: string) => graph.has(specifier);

/** the imports of `folder` that break `allowed` */
function breaking(folder: string, allowed: (specifier: string) => boolean): string[] {
  return [...graph.values()]
    .filter((file) => folderOf(file.path) === folder)
    .flatMap((file) => file.imports.filter((s) => !allowed(s)).map((s) => `${file.path} -> ${s}`));
}

const within =
  (...folders: string[]) =>
  (specifier: string) =>
    isFile(specifier) && folders.includes(folderOf(specifier));
const packages =
  (...names: string[]) =>
  (specifier: string) =>
    names.includes(specifier);
const either =
  (...rules: ((specifier: string) => boolean)[]) =>
  (specifier: string) =>
    rules.some((rule) => rule(specifier));

test("the graph is read: the node's composition root and its imports are in it", () => {
  expect(graph.get("node/start-node.ts")?.imports).toContain("engine/stream-engine.ts");
  expect(graph.size).toBeGreaterThan(500);
});

test.each([
  [
    "messages/ is the leaf: schemas, codecs and records, zod only",
    "messages",
    either(within("messages"), packages("zod")),
  ],
  [
    "the actor core (supervisor/) knows no Kafka, Hono, Bun or other folder",
    "supervisor",
    within("supervisor", "messages"),
  ],
  [
    "log/ imports nothing from supervisor/ or above",
    "log",
    either(within("log", "messages"), (s) => !isFile(s) && !s.startsWith(".")),
  ],
  [
    "stream/ does no I/O and reads no log: stream/ and messages/ only",
    "stream",
    within("stream", "messages"),
  ],
  [
    "alerting/ is the alert domain's pure pieces: alerting/ and messages/ only",
    "alerting",
    either(within("alerting", "messages"), packages("zod")),
  ],
  ["api/ imports no actor behaviour", "api", (s) => !within("actors")(s)],
  ["lake/ imports no actor behaviour", "lake", (s) => !within("actors")(s)],
])("%s", (_rule, folder, allowed) => {
  expect(breaking(folder, allowed)).toEqual([]);
});

test("nothing but the tests imports from test/ (benchmarks share helpers through testkit/)", () => {
  const fromTests = [...graph.values()]
    .filter((file) => folderOf(file.path) !== "test")
    .flatMap((file) => file.imports.filter(within("test")).map((s) => `${file.path} -> ${s}`));
  expect(fromTests).toEqual([]);
});

test("no files import each other round a circle at run time", () => {
  expect(runtimeCycles(graph)).toEqual([]);
});
