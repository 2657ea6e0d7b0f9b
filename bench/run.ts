/**
 * `bun run bench` runs every benchmark in bench/ one after another, each in its own process;
 * `bun run bench <name> [args]` runs one. At the end, every JSON figure line is repeated in one
 * summary so a run's figures can be read (or collected) in one place.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";

const benchDir = import.meta.dir;
const NOT_BENCHMARKS = new Set(["run.ts", "support.ts", "model-data.ts"]);
const available = readdirSync(benchDir)
  .filter((file) => file.endsWith(".ts") && !NOT_BENCHMARKS.has(file))
  .map((file) => file.slice(0, -3))
  .sort();

const [only, ...extra] = process.argv.slice(2);
if (only !== undefined && !available.includes(only)) {
  console.error(`no benchmark '${only}'; available: ${available.join(", ")}`);
  process.exit(2);
}
const selected = only === undefined ? available : [only];
const figures: string[] = [];
let failed = 0;
for (const name of selected) {
  console.log(`\n=== ${name}`);
  const child = Bun.spawn(["bun", join(benchDir, `${name}.ts`), ...extra], {
    cwd: join(benchDir, ".."),
    stdout: "pipe",
    stderr: "inherit",
  });
  let pending = "";
  const decoder = new TextDecoder();
  for await (const chunk of child.stdout) {
    const text = decoder.decode(chunk, { stream: true });
    process.stdout.write(text);
    pending += text;
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) if (line.startsWith('{"name"')) figures.push(line);
  }
  if ((await child.exited) !== 0) {
    failed++;
    console.error(`benchmark ${name} failed with exit code ${child.exitCode}`);
  }
}
console.log("\n=== figures");
for (const line of figures) console.log(line);
process.exit(failed === 0 ? 0 : 1);
