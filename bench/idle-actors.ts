/**
 * 1M idle sensor actors: RSS growth after each of 1M sharded `sensor/<id>` entities has been
 * spawned by its first reading and gone idle (state `{ count, last }`). Baseline from the same
 * run: a Map of the same 1M keys to the same plain state objects, which is the least any
 * keyed-state design pays. Each variant runs in a fresh subprocess so their heaps do not mix.
 * Akka's claim is 2.5M actors per GB (about 400 bytes per actor); the target is <= 330 MB for 1M.
 */
import { createActorSystem } from "../supervisor/actor-system.ts";
import { median } from "./support.ts";

const COUNT = Number(process.env.ACTORS ?? 1_000_000);
const RUNS = Number(process.env.RUNS ?? 3);

interface SensorState {
  count: number;
  last: number;
}

function settledRss(): number {
  Bun.gc(true);
  Bun.gc(true);
  return process.memoryUsage().rss;
}

async function measureActors(): Promise<number> {
  const before = settledRss();
  const system = createActorSystem({ name: "idle" });
  system.register<number, SensorState>({
    kind: "sensor",
    initialState: () => ({ count: 0, last: 0 }),
    receive(ctx, value) {
      ctx.state.count++;
      ctx.state.last = value;
    },
  });
  // readings arrive as a steady stream (the scheduler runs every 1024), not as one burst
  for (let i = 0; i < COUNT; i++) {
    system.tell("sensor", `sensor_${i}`, i);
    if ((i & 0x3ff) === 0) await system.drain();
  }
  await system.drain();
  if (system.stats().actors !== COUNT)
    throw new Error(`expected ${COUNT} actors, got ${system.stats().actors}`);
  const after = settledRss();
  // keep the system reachable until measured
  if (system.stats().processed !== COUNT) throw new Error("lost readings");
  return after - before;
}

function measureMap(): number {
  const before = settledRss();
  const states = new Map<string, SensorState>();
  // readings arrive as a steady stream (the scheduler runs every 1024), not as one burst
  for (let i = 0; i < COUNT; i++) {
    const state = { count: 0, last: 0 };
    state.count++;
    state.last = i;
    states.set(`sensor_${i}`, state);
  }
  const after = settledRss();
  if (states.size !== COUNT) throw new Error("lost entries");
  return after - before;
}

async function child(variant: string): Promise<void> {
  const bytes = variant === "actors" ? await measureActors() : measureMap();
  console.log(JSON.stringify({ variant, bytes }));
}

async function runChild(variant: string): Promise<number> {
  const proc = Bun.spawn([process.execPath, import.meta.path, "--child", variant], {
    env: { ...process.env, ACTORS: String(COUNT) },
    stdout: "pipe",
    stderr: "inherit",
  });
  const out = await new Response(proc.stdout).text();
  if ((await proc.exited) !== 0) throw new Error(`${variant} run failed`);
  return (JSON.parse(out.trim().split("\n").at(-1)!) as { bytes: number }).bytes;
}

const childAt = process.argv.indexOf("--child");
if (childAt >= 0) {
  await child(process.argv[childAt + 1]!);
} else {
  const actors: number[] = [];
  const map: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    actors.push(await runChild("actors"));
    map.push(await runChild("map"));
  }
  const mb = (bytes: number) => bytes / (1024 * 1024);
  const actorBytes = median(actors);
  const mapBytes = median(map);
  console.table([
    {
      variant: `${COUNT} idle sensor actors`,
      "RSS MB": mb(actorBytes).toFixed(1),
      "bytes/actor": Math.round(actorBytes / COUNT),
    },
    {
      variant: `baseline: Map of ${COUNT} plain states`,
      "RSS MB": mb(mapBytes).toFixed(1),
      "bytes/actor": Math.round(mapBytes / COUNT),
    },
  ]);
  console.log(
    JSON.stringify({
      name: "idle-actors.rss",
      value: Number(mb(actorBytes).toFixed(1)),
      unit: "MB",
      baseline: "map-of-plain-states",
      baseline_value: Number(mb(mapBytes).toFixed(1)),
    }),
  );
  console.log(
    JSON.stringify({
      name: "idle-actors.bytes-per-actor",
      value: Math.round(actorBytes / COUNT),
      unit: "bytes",
      baseline: "map-of-plain-states",
      baseline_value: Math.round(mapBytes / COUNT),
    }),
  );
}
