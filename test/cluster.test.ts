import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * `bun run cluster` is a wrapper process running `bun run cluster.ts` as its child. A kill -9 of
 * the wrapper must not leave the node running as an orphan: the node sees its parent change and
 * stops gracefully (regression: it used to keep running, holding its ports and DATA_DIR).
 */
const REPO = join(import.meta.dir, "..");
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function readlinkOf(path: string): string {
  try {
    return readlinkSync(path);
  } catch {
    return ""; // the descriptor closed between the listing and the read
  }
}

function childrenOf(pid: number): number[] {
  const text = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim();
  return text ? text.split(/\s+/).map(Number) : [];
}

/**
 * `bun run cluster` with an embedded node on free ports in a data dir of its own; the cleanup
 * kills the wrapper and whatever node the test recorded in `nodeOf.pid`.
 */
function wrapperOfANode() {
  const dataDir = mkdtempSync(join(tmpdir(), "cluster-wrapper-"));
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const wrapper = Bun.spawn(["bun", "run", "cluster", "--quiet", "--no-simulator"], {
    cwd: REPO,
    env: {
      ...process.env,
      DATA_DIR: dataDir,
      PORT: "0",
      HOST: "127.0.0.1",
      MQTT_PORT: "0",
      MQTT_URL: "",
      KAFKA_BROKERS: "",
      WORKERS: "1",
      PARTITIONS: "2",
    },
    stdout: "pipe", // the banner, a few hundred bytes
    stderr: "ignore",
  });
  const nodeOf: { pid?: number } = {};
  cleanups.push(() => {
    wrapper.kill("SIGKILL");
    if (nodeOf.pid !== undefined && alive(nodeOf.pid)) process.kill(nodeOf.pid, "SIGKILL");
  });
  return { wrapper, nodeOf };
}

test("kill -9 of the `bun run cluster` wrapper stops the node it started", async () => {
  const { wrapper, nodeOf } = wrapperOfANode();
  let banner = "";
  const decoder = new TextDecoder();
  for await (const chunk of wrapper.stdout) {
    banner += decoder.decode(chunk, { stream: true });
    if (banner.includes("Ctrl-C stops")) break;
  }
  expect(banner).toContain("API");
  // the "done when": `bun run cluster` prints the dashboard's URL
  expect(banner).toMatch(/dashboard {2}http:\/\/127\.0\.0\.1:\d+\/dashboard /);
  const node = childrenOf(wrapper.pid)[0];
  nodeOf.pid = node;
  expect(node).toBeDefined();

  wrapper.kill("SIGKILL");
  await wrapper.exited;
  const deadline = Date.now() + 30_000;
  while (alive(node!) && Date.now() < deadline) await Bun.sleep(50);
  expect(alive(node!)).toBe(false);
}, 60_000);

test("a wrapper killed while its node is still starting stops the node too, once it has started (regression: the node read its parent after starting and took the adopting process for it)", async () => {
  const { wrapper, nodeOf } = wrapperOfANode();
  // the order is controlled, not timed: the wrapper dies once the node is inside its start (its
  // log is open), which is after the platform's modules loaded and before the banner
  const started = Date.now() + 30_000;
  const logOpen = (pid: number) => {
    try {
      return readdirSync(`/proc/${pid}/fd`).some((fd) =>
        readlinkOf(`/proc/${pid}/fd/${fd}`).endsWith("log.db"),
      );
    } catch {
      return false; // the process is gone or its fd table changed while it was read
    }
  };
  let node: number | undefined;
  while (Date.now() < started) {
    node = nodeOf.pid = childrenOf(wrapper.pid)[0];
    if (node !== undefined && logOpen(node)) break;
    await Bun.sleep(10);
  }
  expect(node !== undefined && logOpen(node)).toBe(true);

  wrapper.kill("SIGKILL");
  await wrapper.exited;
  const deadline = Date.now() + 45_000;
  while (alive(node!) && Date.now() < deadline) await Bun.sleep(50);
  expect(alive(node!)).toBe(false);
}, 90_000);

test("with no credential configured, `bun run cluster` binds 127.0.0.1 and says how to expose it safely", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "cluster-banner-"));
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const env: Record<string, string | undefined> = {
    ...process.env,
    ...{ DATA_DIR: dataDir, PORT: "0", MQTT_PORT: "0", MQTT_URL: "", KAFKA_BROKERS: "", WORKERS: "0" },
    PARTITIONS: "2",
  };
  for (const name of ["HOST", "ADMIN_API_KEY", "JWT_JWKS_URL", "JWT_JWKS_FILE"]) delete env[name];
  const node = Bun.spawn(["bun", "cluster.ts", "--quiet", "--no-simulator"], {
    cwd: REPO,
    env,
    stdout: "pipe",
  });
  cleanups.push(() => node.kill("SIGKILL"));
  let banner = "";
  const decoder = new TextDecoder();
  for await (const chunk of node.stdout) {
    banner += decoder.decode(chunk, { stream: true });
    if (banner.includes("Ctrl-C stops")) break;
  }
  expect(banner).toMatch(/API {8}http:\/\/127\.0\.0\.1:\d+ /);
  expect(banner).toContain("development mode");
  expect(banner).toContain("bound to 127.0.0.1");
  expect(banner).toContain("ADMIN_API_KEY");
  expect(banner).toContain("bun run keys create");
  node.kill("SIGTERM");
  await node.exited;
}, 60_000);
