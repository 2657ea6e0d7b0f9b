import { afterAll, beforeAll, expect, test } from "bun:test";
import { partitionFor } from "../../../messages/murmur2.ts";
import {
  type ClusterNode,
  getJson,
  ownersSeenBy,
  spawnClusterNode,
} from "../../../testkit/cluster-process.ts";
import {
  inputPartitions,
  kafkaBrokers,
  mosquittoUrl,
  requireRealServers,
  runId,
  skipScaleOut,
} from "../../../testkit/real-servers.ts";
import { holdSharedInput } from "../../../testkit/shared-input-lock.ts";
import { startGroupAtEnd, WindowAudit } from "../../../testkit/window-audit.ts";

/**
 * Two `bun cluster.ts` processes with one application id form one application through the Kafka
 * consumer group: the input partitions are divided between them, and either node's API answers
 * who owns what.
 */
const app = runId("so-two");
const nodes: ClusterNode[] = [];
let partitions = 6;

// other runs' nodes on this broker would read this run's sensors (testkit/shared-input-lock.ts)
let releaseInput: (() => void) | undefined;

beforeAll(async () => {
  await requireRealServers();
  if (skipScaleOut) return;
  releaseInput = await holdSharedInput(kafkaBrokers);
  partitions = await inputPartitions(6);
  const audit = await WindowAudit.begin(kafkaBrokers, `${app}-`, 2000);
  await startGroupAtEnd(kafkaBrokers, app, audit.client);
  await audit.close();
  const options = {
    applicationId: app,
    brokers: kafkaBrokers,
    mqttUrl: mosquittoUrl,
    partitions,
    windowMs: 2000,
    graceMs: 1000,
    commitIntervalMs: 200,
  };
  nodes.push(...(await Promise.all([spawnClusterNode(options), spawnClusterNode(options)])));
}, 720_000);

afterAll(async () => {
  try {
    await Promise.all(nodes.map((node) => node.stop()));
  } finally {
    releaseInput?.();
  }
});

/** wait until both nodes see both members claiming every partition between them */
async function settledOwnership(deadlineMs: number): Promise<Map<string, number[]>[]> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const views = await Promise.all(nodes.map(ownersSeenBy));
    const settled = views.every((view) => {
      const claimed = [...view.values()].flat();
      return view.size === 2 && claimed.length === partitions && new Set(claimed).size === partitions;
    });
    if (settled || Date.now() > deadline) return views;
    await Bun.sleep(250);
  }
}

test.skipIf(skipScaleOut)(
  "two nodes with one application id divide the partitions and both APIs answer for the whole application",
  async () => {
    const views = await settledOwnership(45_000);
    for (const view of views) {
      expect([...view.keys()].sort()).toEqual(nodes.map((n) => n.apiUrl).sort());
      for (const owned of view.values()) expect(owned.length).toBeGreaterThan(0);
      expect([...view.values()].flat().sort((a, b) => a - b)).toEqual(
        Array.from({ length: partitions }, (_, p) => p),
      );
    }
    // both nodes agree with each other
    expect(views[0]).toEqual(views[1]!);

    const owner = new Map<number, string>();
    for (const [api, owned] of views[0]!) for (const p of owned) owner.set(p, api);
    for (const key of ["traffic_1", "air_quality_7", `${app}-x`, "sensor-ü", "weather_42"]) {
      for (const node of nodes) {
        const answer = await getJson<{ partition: number; owner: { api: string }; local: boolean }>(
          `${node.apiUrl}/api/owner/${encodeURIComponent(key)}`,
        );
        expect(answer.partition).toBe(partitionFor(key, partitions));
        expect(answer.owner.api).toBe(owner.get(answer.partition)!);
        expect(answer.local).toBe(answer.owner.api === node.apiUrl);
      }
    }
  },
  60_000,
);

test.skipIf(skipScaleOut)(
  "a schema registered through one node's API is served by the other's within seconds, and subjects registered through both at once get one agreed set of ids",
  async () => {
    const [a, b] = nodes as [ClusterNode, ClusterNode];
    const register = async (node: ClusterNode, subject: string, field: string) => {
      const response = await fetch(`${node.apiUrl}/schema-registry/subjects/${subject}/versions`, {
        method: "POST",
        headers: { "content-type": "application/vnd.schemaregistry.v1+json" },
        body: JSON.stringify({
          schemaType: "JSON",
          schema: JSON.stringify({ type: "object", properties: { [field]: { type: "number" } } }),
        }),
        signal: AbortSignal.timeout(10_000),
      });
      expect(response.status).toBe(200);
      return ((await response.json()) as { id: number }).id;
    };
    const id = await register(a, `${app}-one-value`, "one");
    const deadline = Date.now() + 10_000;
    let seen = await fetch(`${b.apiUrl}/schema-registry/schemas/ids/${id}`);
    while (seen.status !== 200 && Date.now() < deadline) {
      await Bun.sleep(100);
      seen = await fetch(`${b.apiUrl}/schema-registry/schemas/ids/${id}`);
    }
    expect(seen.status).toBe(200);

    // both nodes write at once: each registration ends with its own id, the same on both nodes
    const subjects = Array.from({ length: 6 }, (_, i) => `${app}-both-${i}-value`);
    const ids = await Promise.all(
      subjects.map((subject, i) => register(i % 2 === 0 ? a : b, subject, `f${i}`)),
    );
    expect(new Set(ids).size).toBe(subjects.length);
    for (const node of nodes)
      for (const [i, subject] of subjects.entries()) {
        const until = Date.now() + 10_000;
        let latest = await getJson<{ id?: number }>(
          `${node.apiUrl}/schema-registry/subjects/${subject}/versions/latest`,
        );
        while (latest.id !== ids[i] && Date.now() < until) {
          await Bun.sleep(100);
          latest = await getJson(`${node.apiUrl}/schema-registry/subjects/${subject}/versions/latest`);
        }
        expect(latest.id).toBe(ids[i]!);
      }
  },
  60_000,
);
