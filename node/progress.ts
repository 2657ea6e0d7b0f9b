import type { NodeProgress } from "./start-node.ts";

/**
 * The live line `bun run cluster` prints: events/s in and out, totals, actors and alerts.
 * On a terminal it rewrites one line; in a pipe (CI, logs) it prints a line every interval.
 */
export function startProgress(
  read: () => NodeProgress,
  write: (text: string) => void,
  options: { intervalMs?: number; tty?: boolean } = {},
): () => void {
  const intervalMs = options.intervalMs ?? 1000;
  let last = read();
  let lastAt = Date.now();
  const timer = setInterval(() => {
    const now = Date.now();
    const current = read();
    const seconds = Math.max(0.001, (now - lastAt) / 1000);
    const rate = (a: number, b: number) => Math.round((a - b) / seconds);
    const line =
      `ingest ${rate(current.ingested, last.ingested)}/s  consumed ${rate(current.consumed, last.consumed)}/s  ` +
      `outputs ${rate(current.outputs, last.outputs)}/s  | total ${current.ingested} in, ${current.rejected} dead letters  ` +
      `| workers ${current.workers}  main actors ${current.actors}  alerts ${current.alerts}`;
    write(options.tty ? `\r\x1b[2K${line}` : `${line}\n`);
    last = current;
    lastAt = now;
  }, intervalMs);
  return () => clearInterval(timer);
}
