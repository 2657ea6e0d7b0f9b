import { dirname, join, relative, resolve } from "node:path";
import { Glob } from "bun";

/**
 * The project's import graph, read from the sources as Bun loads them, for the tests that hold
 * ARCHITECTURE.md's arrows (test/architecture.test.ts).
 *
 * Two edges per file: `imports` are every specifier it names, `import type` included (a type
 * import is an arrow in the design too), and `runtime` are the relative imports that survive
 * transpiling (Bun's `scanImports` drops type-only ones), the edges along which a cycle would
 * make a module see another half-initialised.
 */
export interface SourceFile {
  /** relative to the root, with `/` */
  readonly path: string;
  /** what the file imports: a root-relative path for a relative specifier, else the package name */
  readonly imports: readonly string[];
  /** the root-relative files it imports at run time */
  readonly runtime: readonly string[];
}

const SKIPPED = ["node_modules/", "infra/.cache/", "bench/peers/", "data/", ".data/"];
const STATIC_SPECIFIER = /(?:^|[\n;])\s*(?:import|export)\s[^;]*?\sfrom\s*["']([^"']+)["']/g;
const BARE_IMPORT = /(?:^|[\n;])\s*import\s*["']([^"']+)["']/g;
const DYNAMIC_SPECIFIER = /\bimport\(\s*["']([^"']+)["']\s*\)/g;

export async function readImportGraph(root: string): Promise<Map<string, SourceFile>> {
  const paths: string[] = [];
  for await (const path of new Glob("**/*.ts").scan({ cwd: root })) {
    if (SKIPPED.some((prefix) => path.startsWith(prefix)) || path.includes("/node_modules/")) continue;
    paths.push(path);
  }
  const known = new Set(paths);
  const fileOf = (from: string, specifier: string): string | undefined => {
    const target = relative(root, resolve(root, dirname(from), specifier));
    return [target, `${target}.ts`, join(target, "index.ts")].find((candidate) => known.has(candidate));
  };
  const transpiler = new Bun.Transpiler({ loader: "ts" });
  const graph = new Map<string, SourceFile>();
  for (const path of paths) {
    const source = await Bun.file(join(root, path)).text();
    const named = [STATIC_SPECIFIER, BARE_IMPORT, DYNAMIC_SPECIFIER].flatMap((pattern) =>
      [...source.matchAll(pattern)].map((match) => match[1]!),
    );
    const imports = named.map((specifier) =>
      specifier.startsWith(".") ? (fileOf(path, specifier) ?? specifier) : specifier,
    );
    const runtime = transpiler
      .scanImports(source)
      .filter((entry) => entry.path.startsWith("."))
      .flatMap((entry) => fileOf(path, entry.path) ?? []);
    graph.set(path, { path, imports: [...new Set(imports)], runtime: [...new Set(runtime)] });
  }
  return graph;
}

/**
 * The groups of files that import each other at run time, directly or round a circle (strongly
 * connected components with more than one file, or a file importing itself), by Tarjan's
 * algorithm; each group sorted, the groups by their first file.
 */
export function runtimeCycles(graph: ReadonlyMap<string, SourceFile>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const groups: string[][] = [];
  const visit = (file: string) => {
    index.set(file, next);
    low.set(file, next);
    next++;
    stack.push(file);
    onStack.add(file);
    const edges = graph.get(file)?.runtime ?? [];
    for (const target of edges) {
      if (!index.has(target)) {
        visit(target);
        low.set(file, Math.min(low.get(file)!, low.get(target)!));
      } else if (onStack.has(target)) low.set(file, Math.min(low.get(file)!, index.get(target)!));
    }
    if (low.get(file) !== index.get(file)) return;
    const group: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      group.push(member);
    } while (member !== file);
    if (group.length > 1 || edges.includes(file)) groups.push(group.sort());
  };
  for (const file of graph.keys()) if (!index.has(file)) visit(file);
  return groups.sort((a, b) => a[0]!.localeCompare(b[0]!));
}
