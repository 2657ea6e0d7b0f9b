import {
  type ClusterNode,
  type ClusterNodeOptions,
  ownersSeenBy,
  spawnClusterNode,
  until,
} from "./cluster-process.ts";

/**
 * A rolling restart of an application's nodes, one at a time, as an operator upgrades a cluster
 * (Kafka Streams' rolling bounce): SIGTERM the node (it drains its MQTT session, flushes its
 * outputs and state, commits, leaves the group), wait until the others own every partition, start
 * it again from the new build with the same DATA_DIR (so it takes its persistent MQTT session and
 * its queued readings back), and wait until it owns partitions again before the next node goes.
 * Used by `bin/drill-rolling-restart.ts` and `test/node/scale-out/rolling-restart.test.ts`.
 */
export interface RollingStep {
  readonly node: number;
  /** SIGTERM to exit */
  readonly stopMs: number;
  /** the node's exit code: 0 for a clean stop */
  readonly exitCode: number;
  /** SIGTERM until the other nodes owned every partition */
  readonly handedOverMs: number;
  /** restart until the new process owned partitions again */
  readonly rejoinedMs: number;
  /** the stopped process's last output when it did not exit cleanly */
  readonly outputTail?: string;
  /** what the stopped process said about its stop: slow parts, deadlines given up, rebalances */
  readonly stopNotes: string[];
}

export interface RollingRestartOptions {
  readonly partitions: number;
  /** how the restarted node runs: the new build's checkout (default this one) */
  readonly repoDir?: string;
  /** time to let the application run between two nodes */
  readonly settleMs?: number;
  readonly stepTimeoutMs?: number;
  readonly onStep?: (step: RollingStep) => void;
}

export async function rollingRestart(
  nodes: ClusterNode[],
  options: (index: number) => ClusterNodeOptions,
  restart: RollingRestartOptions,
): Promise<RollingStep[]> {
  const all = JSON.stringify(Array.from({ length: restart.partitions }, (_, p) => p));
  const timeout = restart.stepTimeoutMs ?? 45_000;
  const coverage = (view: Map<string, number[]>) =>
    JSON.stringify([...view.values()].flat().sort((a, b) => a - b));
  const steps: RollingStep[] = [];
  for (let index = 0; index < nodes.length; index++) {
    const node = nodes[index]!;
    const others = nodes.filter((_, i) => i !== index);
    const started = Date.now();
    // a node stops its parts one after another, each with its own deadline (the engine up to 20 s
    // twice): more than a minute is a hang
    await node.stop(75_000);
    const exitCode = await node.exited;
    const stopMs = Date.now() - started;
    await until(
      () => ownersSeenBy(others[0]!),
      (view) => !view.has(node.apiUrl) && coverage(view) === all,
      timeout,
      `the other nodes to own every partition after node ${index} stopped`,
    );
    const handedOverMs = Date.now() - started;
    const restarted = await spawnClusterNode({
      ...options(index),
      dataDir: node.dataDir,
      ...(restart.repoDir ? { repoDir: restart.repoDir } : {}),
    });
    nodes[index] = restarted;
    await until(
      () => ownersSeenBy(others[0]!),
      (view) => (view.get(restarted.apiUrl)?.length ?? 0) > 0 && coverage(view) === all,
      timeout,
      `node ${index} to own partitions again after its restart`,
    );
    const step: RollingStep = {
      node: index,
      stopMs,
      exitCode,
      handedOverMs,
      rejoinedMs: Date.now() - started,
      stopNotes: node
        .output()
        .split("\n")
        .filter((line) => /stop:|gave up|rebalance|LOG_/i.test(line))
        .slice(-20),
      ...(exitCode === 0 ? {} : { outputTail: node.output().slice(-3000) }),
    };
    steps.push(step);
    restart.onStep?.(step);
    await Bun.sleep(restart.settleMs ?? 0);
  }
  return steps;
}
