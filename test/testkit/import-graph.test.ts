import { afterAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { readImportGraph, runtimeCycles, type SourceFile } from "../../testkit/import-graph.ts";

const dir = mkdtempSync(join(tmpdir(), "import-graph-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function tree(name: string, files: Record<string, string>): string {
  const root = join(dir, name);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

const graphOf = (edges: Record<string, string[]>) =>
  new Map<string, SourceFile>(
    Object.entries(edges).map(([path, runtime]) => [path, { path, imports: runtime, runtime }]),
  );

test.each([
  ["a chain has no cycle", { a: ["b"], b: ["c"], c: [] }, []],
  ["two files importing each other", { a: ["b"], b: ["a"], c: ["a"] }, [["a", "b"]]],
  [
    "a circle of three, and a file on its own circle",
    { a: ["b"], b: ["c"], c: ["a"], d: ["d"] },
    [["a", "b", "c"], ["d"]],
  ],
  [
    "two separate circles",
    { x: ["y"], y: ["x"], a: ["b"], b: ["a"] },
    [
      ["a", "b"],
      ["x", "y"],
    ],
  ],
])("%s", (_name, edges, cycles) => {
  expect(runtimeCycles(graphOf(edges))).toEqual(cycles);
});

test("a type-only import is an arrow of the design but not a run-time edge", async () => {
  const root = tree("types", {
    "a/one.ts":
      'import type { Two } from "../b/two.ts";\nimport { three } from "./three.ts";\nexport const one: Two = three;\n',
    "a/three.ts": "export const three = 3;\n",
    "b/two.ts": 'import { one } from "../a/one.ts";\nexport type Two = number;\nexport const two = one;\n',
    "c/index.ts":
      'import { z } from "zod";\nexport * from "../a/three.ts";\nexport const lazy = () => import("../b/two.ts");\nexport const s = z.string();\n',
  });
  const graph = await readImportGraph(root);
  expect(graph.get("a/one.ts")).toEqual({
    path: "a/one.ts",
    imports: ["b/two.ts", "a/three.ts"],
    runtime: ["a/three.ts"],
  });
  expect([...(graph.get("c/index.ts")?.imports ?? [])].sort()).toEqual(["a/three.ts", "b/two.ts", "zod"]);
  expect([...(graph.get("c/index.ts")?.runtime ?? [])].sort()).toEqual(["a/three.ts", "b/two.ts"]);
  expect(runtimeCycles(graph)).toEqual([]);
});

test("a circle through run-time imports is found in a tree", async () => {
  const root = tree("circle", {
    "m/a.ts": 'import { b } from "./b.ts";\nexport const a = () => b;\n',
    "m/b.ts": 'import { a } from "./a.ts";\nexport const b = () => a;\n',
  });
  expect(runtimeCycles(await readImportGraph(root))).toEqual([["m/a.ts", "m/b.ts"]]);
});
