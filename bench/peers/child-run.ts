import { ErrorCodes, PlatformError } from "../../messages/errors.ts";

/**
 * Runs one side of the benchmark as a child process. Both sides speak the same stdout protocol:
 * JSON lines, `{"event":"ready"}` once they own their partitions, and a last line
 * `{"records","seconds","recordsPerSecond",...}`. The child is killed (by its own pid) when it
 * overruns `timeoutMs`.
 */
export interface SideResult {
  readonly records: number;
  readonly seconds: number | null;
  readonly recordsPerSecond: number | null;
  readonly complete: boolean;
  readonly [extra: string]: unknown;
}

export interface ChildRun {
  /** resolves when the child printed {"event":"ready"} */
  readonly ready: Promise<void>;
  /** the final JSON line, once the child has exited */
  readonly result: Promise<SideResult & { wallSeconds: number }>;
}

export function runChild(
  name: string,
  command: readonly string[],
  timeoutMs: number,
  env: Readonly<Record<string, string>> = {},
): ChildRun {
  const started = performance.now();
  const child = Bun.spawn([...command], { stdout: "pipe", stderr: "pipe", env: { ...process.env, ...env } });
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const { promise: ready, resolve: onReady, reject: notReady } = Promise.withResolvers<void>();
  const lines: string[] = [];
  const stderr = new Response(child.stderr).text();
  const stdout = (async () => {
    const decoder = new TextDecoder();
    let pending = "";
    for await (const chunk of child.stdout) {
      pending += decoder.decode(chunk, { stream: true });
      let newline = pending.indexOf("\n");
      while (newline >= 0) {
        const line = pending.slice(0, newline).trim();
        pending = pending.slice(newline + 1);
        if (line.length > 0) lines.push(line);
        if (line === '{"event":"ready"}') onReady();
        newline = pending.indexOf("\n");
      }
    }
    if (pending.trim().length > 0) lines.push(pending.trim());
  })();
  const result = (async () => {
    const [exitCode] = await Promise.all([child.exited, stdout]);
    clearTimeout(timer);
    const wallSeconds = (performance.now() - started) / 1_000;
    const last = lines.at(-1);
    const parsed = last?.startsWith("{") === true ? (JSON.parse(last) as SideResult) : undefined;
    if (exitCode !== 0 || parsed === undefined || parsed.complete !== true) {
      const failure = new PlatformError(
        ErrorCodes.BENCH_PEER_FAILED,
        `${name} failed (exit ${exitCode}${child.signalCode ? `, ${child.signalCode}` : ""}): ${last ?? "no output"}`,
        { details: { stderr: (await stderr).slice(-2_000) } },
      );
      notReady(failure);
      throw failure;
    }
    return { ...parsed, wallSeconds };
  })();
  // a child that exits before "ready" fails `ready` too; handled by whoever awaits either
  ready.catch(() => undefined);
  return { ready, result };
}
