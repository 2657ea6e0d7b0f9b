import { chownSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { writeMosquittoAuth } from "../infra/mosquitto/mosquitto-auth.ts";
import { type ChoosePort, PortTakenError, saysPortTaken, startOnFreePorts } from "./free-port.ts";
import { portOpen } from "./kafka-broker.ts";

/**
 * A Mosquitto of the test's own, from the very files `infra/up.sh` uses (infra/mosquitto/
 * mosquitto.conf with its anonymous listener moved to a free port, and the authenticated
 * listeners written by infra/mosquitto/mosquitto-auth.ts), so an authentication test changes
 * nothing on the shared broker the other tests use.
 */
export interface PrivateMosquitto {
  readonly anonymousUrl: string;
  readonly deviceUrl: string;
  readonly serviceUrl: string;
  output(): string;
  stop(): Promise<void>;
}

const REPO = join(import.meta.dir, "..");

export function mosquittoInstalled(): boolean {
  return Bun.which("mosquitto") !== null || Bun.which("mosquitto", { PATH: "/usr/sbin" }) !== null;
}

interface MosquittoAuthOptions {
  readonly secret: string;
  readonly applications: readonly string[];
  readonly devices: readonly string[];
  readonly gateways: readonly string[];
  /** where the listeners' ports come from; default a port the OS calls free (a test may hand out a taken one) */
  readonly choosePort?: ChoosePort;
}

/**
 * A free port is only free when asked: another process may bind it before Mosquitto does (seen
 * once in a full suite run: "Error: Address already in use"), so a taken port means new ports.
 */
export async function startPrivateMosquitto(options: MosquittoAuthOptions): Promise<PrivateMosquitto> {
  const { choosePort, ...accounts } = options;
  return startOnFreePorts(3, (ports) => startOnPorts(accounts, ports), { choosePort });
}

async function startOnPorts(
  accounts: Omit<MosquittoAuthOptions, "choosePort">,
  ports: number[],
): Promise<PrivateMosquitto> {
  const runDir = mkdtempSync(join(tmpdir(), "mosquitto-auth-"));
  const [anonymousPort, devicePort, servicePort] = ports as [number, number, number];
  const confD = join(runDir, "mosquitto", "conf.d");
  await writeMosquittoAuth({ dir: confD, devicePort, servicePort, ...accounts });
  const conf = readFileSync(join(REPO, "infra", "mosquitto", "mosquitto.conf"), "utf8")
    .replaceAll("@RUN_DIR@", runDir)
    // as root, stay root (Mosquitto would switch to its own user); otherwise it cannot switch anyway
    .replaceAll("@USER@", process.getuid?.() === 0 ? "root" : userInfo().username)
    .replace(/^listener 1883 /m, `listener ${anonymousPort} `);
  writeFileSync(join(runDir, "mosquitto.conf"), conf);
  if (process.getuid?.() === 0) handToMosquittoUser(runDir);
  const binary = Bun.which("mosquitto") ?? "/usr/sbin/mosquitto";
  const proc: Subprocess<"ignore", "pipe", "pipe"> = Bun.spawn(
    [binary, "-c", join(runDir, "mosquitto.conf")],
    {
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    },
  );
  let text = "";
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) text += decoder.decode(chunk, { stream: true });
  };
  const collecting = Promise.all([collect(proc.stdout), collect(proc.stderr)]);
  const deadline = Date.now() + 10_000;
  for (const port of [anonymousPort, devicePort, servicePort]) {
    while (!(await portOpen("127.0.0.1", port))) {
      if (proc.exitCode !== null || Date.now() > deadline) {
        proc.kill("SIGKILL");
        await proc.exited;
        await collecting;
        rmSync(runDir, { recursive: true, force: true });
        const message = `private mosquitto did not open port ${port}:\n${text}`;
        throw saysPortTaken(text) ? new PortTakenError(message) : new Error(message);
      }
      await Bun.sleep(50);
    }
  }
  return {
    anonymousUrl: `mqtt://127.0.0.1:${anonymousPort}`,
    deviceUrl: `mqtt://127.0.0.1:${devicePort}`,
    serviceUrl: `mqtt://127.0.0.1:${servicePort}`,
    output: () => text,
    async stop() {
      proc.kill("SIGTERM");
      await proc.exited;
      await collecting;
      rmSync(runDir, { recursive: true, force: true });
    },
  };
}

/** Mosquitto started as root drops to the `mosquitto` user, which must still read its files */
function handToMosquittoUser(dir: string): void {
  const passwd = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((line) => line.startsWith("mosquitto:"));
  if (!passwd) return;
  const [, , uid, gid] = passwd.split(":");
  const chownTree = (path: string) => {
    chownSync(path, Number(uid), Number(gid));
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      const child = join(path, entry.name);
      if (entry.isDirectory()) chownTree(child);
      else chownSync(child, Number(uid), Number(gid));
    }
  };
  chownTree(dir);
}
