import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import {
  type ChoosePort,
  PortTakenError,
  restartOnSamePorts,
  saysPortTaken,
  startOnFreePorts,
} from "./free-port.ts";

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

export interface PrivateQuestDbOptions {
  readonly readyTimeoutMs?: number;
  /** where the HTTP, ILP and PG ports come from; default a port the OS calls free (a test may hand out a taken one) */
  readonly choosePort?: ChoosePort;
  /** told when a restart found its port taken and will try again */
  readonly onPortTaken?: (error: PortTakenError) => void;
}

/**
 * A free port may be taken before QuestDB binds it, and QuestDB then exits with "[98] could not
 * bind socket": the first start moves to new ports, a restart (the clients know the URLs) tries
 * the same ports again while their holder lets go.
 */
export async function privateQuestDb(options: PrivateQuestDbOptions = {}): Promise<PrivateQuestDb> {
  const jar = questdbJar();
  if (!existsSync(jar))
    throw new Error(`no QuestDB jar at ${jar}: run \`bun run infra:up questdb\` once to fetch it`);
  return startOnFreePorts(3, (ports) => questDbOnPorts(jar, ports, options), {
    choosePort: options.choosePort,
  });
}

async function questDbOnPorts(
  jar: string,
  ports: number[],
  options: PrivateQuestDbOptions,
): Promise<PrivateQuestDb> {
  const [http, ilp, pg] = ports as [number, number, number];
  const root = mkdtempSync(join(tmpdir(), "questdb-private-"));
  mkdirSync(join(root, "conf"));
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
  // files, not pipes nobody reads (which would block QuestDB once full); read when it fails. Two:
  // two handles on one file would write over each other from offset 0
  const logFiles = [join(root, "questdb.out"), join(root, "questdb.err")] as const;
  const readLogs = async () => {
    const [out, err] = await Promise.all(logFiles.map((file) => Bun.file(file).text()));
    return `${err}\n${out?.slice(-2000)}`;
  };
  let proc: Subprocess | undefined;
  const launch = async () => {
    if (proc && proc.exitCode === null && proc.signalCode === null) return;
    // this start's log only: a failure is read from it
    for (const file of logFiles) rmSync(file, { force: true });
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
      { stdin: "ignore", stdout: Bun.file(logFiles[0]), stderr: Bun.file(logFiles[1]) },
    );
    const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
    // the HTTP answer alone is not enough: another QuestDB that took our HTTP port answers too
    while (!(await questdbAnswers(httpUrl)) || proc.exitCode !== null) {
      if (proc.exitCode !== null) {
        const log = await readLogs();
        proc = undefined;
        const message = `private QuestDB exited on ${httpUrl}:\n${log}`;
        throw saysPortTaken(log) ? new PortTakenError(message) : new Error(message);
      }
      if (Date.now() > deadline) {
        proc.kill("SIGKILL");
        await proc.exited;
        proc = undefined;
        throw new Error(`private QuestDB did not answer at ${httpUrl}`);
      }
      await Bun.sleep(100);
    }
  };
  const self: PrivateQuestDb = {
    httpUrl,
    pgUrl: `postgres://admin:quest@127.0.0.1:${pg}/qdb`,
    start: () => restartOnSamePorts(launch, { onPortTaken: options.onPortTaken }),
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
  try {
    await launch();
  } catch (error) {
    await self.dispose();
    throw error;
  }
  return self;
}
