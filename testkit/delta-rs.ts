import { existsSync } from "node:fs";
import { join } from "node:path";

/**
 * delta-rs (the `deltalake` package) as the reference reader and writer of the lake's
 * conformance tests and benchmark: Python scripts in testkit/python run in the shared venv that
 * infra/python.sh makes (infra/.cache/venv).
 */

const REPO = join(import.meta.dir, "..");
export const VENV_PYTHON = process.env.DELTA_RS_PYTHON ?? join(REPO, "infra/.cache/venv/bin/python");

export function deltaRsAvailable(): boolean {
  return existsSync(VENV_PYTHON);
}

export interface DeltaRsTable {
  version: number;
  schema: { name: string; type: unknown; nullable: boolean }[];
  partitionColumns: string[];
  numFiles: number;
  /** timestamps as epoch ms, dates as YYYY-MM-DD */
  rows: Record<string, unknown>[];
}

async function runPython(script: string, args: string[], stdin?: string): Promise<string> {
  if (!deltaRsAvailable()) {
    throw new Error(`the delta-rs venv is missing (${VENV_PYTHON}): run bash infra/python.sh`);
  }
  const child = Bun.spawn([VENV_PYTHON, join(REPO, "testkit/python", script), ...args], {
    stdin: stdin === undefined ? "ignore" : new TextEncoder().encode(stdin),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  if (code !== 0) throw new Error(`delta-rs ${script} failed (${code}): ${err.trim()}`);
  return out;
}

/** Reads a table with delta-rs (optionally at a version). */
export async function readWithDeltaRs(dir: string, version?: number): Promise<DeltaRsTable> {
  const args = version === undefined ? [dir] : [dir, "--version", String(version)];
  return JSON.parse(await runPython("delta_read.py", args)) as DeltaRsTable;
}

export interface DeltaRsPlan {
  path: string;
  schema: {
    name: string;
    type: "string" | "long" | "integer" | "double" | "boolean" | "date" | "timestamp";
  }[];
  partitionBy?: string[];
  steps: (
    | { op: "write"; mode?: "append" | "overwrite"; rows: Record<string, unknown>[] }
    | { op: "delete"; predicate: string }
    | { op: "checkpoint" }
  )[];
}

/** Writes a table with delta-rs; returns its version after the plan. */
export async function writeWithDeltaRs(plan: DeltaRsPlan): Promise<number> {
  return (JSON.parse(await runPython("delta_write.py", [], JSON.stringify(plan))) as { version: number })
    .version;
}
