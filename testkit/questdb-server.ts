import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";

/**
 * QuestDB for tests and benchmarks: the shared server `infra/up.sh questdb` starts (QUESTDB_URL,
 * default http://127.0.0.1:9000), and private servers a test may stop and start again without
 * disturbing anyone else's: the same jar infra/ fetched (Maven's cache, QUESTDB_VERSION as in
 * infra/lib.sh), its own data dir and free ports.
 */
export const questdbHttpUrl = process.env.QUESTDB_URL ?? "http://127.0.0.1:9000";

export async function questdbAnswers(httpUrl: string): Promise<boolean> {
  try {
    const response = await fetch(`${httpUrl}/exec?query=select%201`, { signal: AbortSignal.timeout(2000) });
    return response.ok;
  } catch {
    return false;
  }
}

export async function requireQuestDb(): Promise<void> {
  if (!(await questdbAnswers(questdbHttpUrl)))
    throw new Error(
      `no QuestDB at ${questdbHttpUrl}: start it with \`bun run infra:up questdb\` (or set QUESTDB_URL)`,
    );
}

const QUESTDB_VERSION = process.env.QUESTDB_VERSION ?? "9.3.0";

export function questdbJar(): string {
  return join(
    homedir(),
    ".m2/repository/org/questdb/questdb",
    QUESTDB_VERSION,
    `questdb-${QUESTDB_VERSION}.jar`,
  );
}

async function freePort(): Promise<number> {
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = server.port;
  server.stop(true);
  return port;
}

export interface PrivateQuestDb {
  readonly httpUrl: string;
  readonly pgUrl: string;
  /** start (again) on the same ports and data */
  start(): Promise<void>;
  /** SIGKILL: the server is gone at once, as in a crash or a pulled cable */
  stop(): Promise<void>;
  /** stop and delete the data dir */
  dispose(): Promise<void>;
}

export async function privateQuestDb(options: { readyTimeoutMs?: number } = {}): Promise<PrivateQuestDb> {
  const jar = questdbJar();
  if (!existsSync(jar))
    throw new Error(`no QuestDB jar at ${jar}: run \`bun run infra:up questdb\` once to fetch it`);
  const root = mkdtempSync(join(tmpdir(), "questdb-private-"));
  mkdirSync(join(root, "conf"));
  const [http, ilp, pg] = [await freePort(), await freePort(), await freePort()];
  writeFileSync(
    join(root, "conf", "server.conf"),
    [
      `http.bind.to=127.0.0.1:${http}`,
      `line.tcp.net.bind.to=127.0.0.1:${ilp}`,
      `pg.net.bind.to=127.0.0.1:${pg}`,
      "http.min.enabled=false",
      "line.udp.enabled=false",
      "shared.worker.count=1",
      "telemetry.enabled=false",
      "",
    ].join("\n"),
  );
  const httpUrl = `http://127.0.0.1:${http}`;
  let proc: Subprocess | undefined;
  const self: PrivateQuestDb = {
    httpUrl,
    pgUrl: `postgres://admin:quest@127.0.0.1:${pg}/qdb`,
    async start() {
      if (proc && proc.exitCode === null && proc.signalCode === null) return;
      proc = Bun.spawn(
        [
          "java",
          "-Xms64m",
          "-Xmx256m",
          "-XX:+UseParallelGC",
          "-p",
          jar,
          "-m",
          "io.questdb/io.questdb.ServerMain",
          "-d",
          root,
        ],
        { stdin: "ignore", stdout: "ignore", stderr: "ignore" },
      );
      const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
      while (!(await questdbAnswers(httpUrl))) {
        if (proc.exitCode !== null) throw new Error(`private QuestDB exited with ${proc.exitCode}`);
        if (Date.now() > deadline) {
          proc.kill("SIGKILL");
          throw new Error(`private QuestDB did not answer at ${httpUrl}`);
        }
        await Bun.sleep(100);
      }
    },
    async stop() {
      if (!proc) return;
      proc.kill("SIGKILL");
      await proc.exited;
      proc = undefined;
    },
    async dispose() {
      await self.stop();
      rmSync(root, { recursive: true, force: true });
    },
  };
  await self.start();
  return self;
}
