import type { Log } from "../log/log.ts";
import type { DeadLetter } from "../messages/dead-letter.ts";
import type { PlatformError } from "../messages/errors.ts";
import type { HostOutput } from "../messages/host-protocol.ts";
import type { SensorType } from "../messages/sensor-reading.ts";
import { Topics } from "../messages/topics.ts";
import type { ActorStateStores } from "./actor-state.ts";
import { Dispatcher } from "./dispatcher.ts";
import { inProcessHosts } from "./in-process-hosts.ts";
import type { PartitionHostSetup } from "./partition-host-setup.ts";
import type { PartitionHosts, ReadingParse } from "./partition-hosts.ts";
import type { StopBudget } from "./stop-deadline.ts";
import { workerHosts } from "./worker-hosts.ts";

/**
 * The engine of one node: the partition hosts (Bun workers, or the main thread with WORKERS=0)
 * with their sensor, window and model-shard actors, and the dispatcher that moves the input
 * topic's records to them and commits. Outputs go to the node's sinks (`onOutput`); a batch mark
 * the sinks made durable comes back through `markDone`. A crashed worker is restarted by the
 * pool and replayed from the committed offsets against its changelog state.
 */
export interface StreamEngine {
  readonly hosts: PartitionHosts;
  readonly dispatcher: Dispatcher;
  /** the sinks made a batch's outputs durable */
  markDone(worker: number, batch: number): void;
  /** within `budget`: batches not done by then are abandoned uncommitted (read again later) */
  stop(budget?: StopBudget): Promise<void>;
}

export interface StreamEngineDeps {
  readonly log: Log;
  readonly applicationId: string;
  /** the input topic; default `city.sensors.raw` */
  readonly topic?: string;
  /**
   * the sensor types the job windows (a filter before the windows, in the workers that read the
   * readings); default all
   */
  readonly acceptTypes?: readonly SensorType[];
  /** records per poll; default the dispatcher's */
  readonly pollRecords?: number;
  readonly partitions: number;
  readonly workers: number;
  readonly setup: PartitionHostSetup;
  readonly commitIntervalMs: number;
  readonly state: ActorStateStores;
  readonly decode: (bytes: Uint8Array) => unknown;
  /** the codec's `refresh`: a reading with a schema id registered elsewhere since is read after it */
  readonly refreshSchemas?: () => Promise<void>;
  /** the codec's `readingJsonStart`: which raw readings the byte reader may read in decode's place */
  readonly readingJsonStart?: (bytes: Uint8Array) => number;
  /** where a raw reading's JSON is read with partition workers (engine/partition-hosts.ts); default "worker" */
  readonly readingParse?: ReadingParse;
  readonly onOutput: (output: HostOutput) => void;
  readonly onDeadLetter: (letter: DeadLetter, topic: string) => void;
  readonly onConsumed: (count: number) => void;
  readonly onAssignment: (partitions: readonly number[]) => void;
  readonly onTransientError: (error: PlatformError) => void;
  readonly onError: (error: unknown) => void;
}

export async function startStreamEngine(deps: StreamEngineDeps): Promise<StreamEngine> {
  const topic = deps.topic ?? Topics.sensorsRaw;
  const setup: PartitionHostSetup = {
    ...deps.setup,
    inputTopic: topic,
    ...(deps.acceptTypes === undefined ? {} : { acceptTypes: deps.acceptTypes }),
  };
  const accepted = deps.acceptTypes === undefined ? undefined : new Set(deps.acceptTypes);
  const hosts: PartitionHosts =
    deps.workers === 0
      ? inProcessHosts(setup)
      : await workerHosts({
          setup,
          workers: deps.workers,
          partitions: deps.partitions,
          ...(deps.readingParse === undefined ? {} : { readingParse: deps.readingParse }),
        });
  // the workers' event times and refused input records are the engine's, not the sinks'
  hosts.onOutput((output) => {
    if (output.type === "event-times") dispatcher.observeEventTimes(output.batch, output.times);
    else if (output.type === "input-dead-letter")
      deps.onDeadLetter(output.deadLetter, Topics.deadLettersOf(topic));
    else deps.onOutput(output);
  });
  const dispatcher = new Dispatcher({
    log: deps.log,
    hosts,
    groupId: deps.applicationId,
    ...(deps.topic === undefined ? {} : { topic: deps.topic }),
    ...(accepted === undefined ? {} : { accepts: (reading) => accepted.has(reading.sensorType) }),
    ...(deps.pollRecords === undefined ? {} : { pollRecords: deps.pollRecords }),
    decode: deps.decode,
    ...(deps.refreshSchemas === undefined ? {} : { refreshSchemas: deps.refreshSchemas }),
    readingJsonStart: deps.readingJsonStart,
    state: deps.state,
    commitIntervalMs: deps.commitIntervalMs,
    watermark: { maxOutOfOrdernessMs: setup.maxOutOfOrdernessMs, idleTimeoutMs: setup.idleTimeoutMs },
    onAssignment: deps.onAssignment,
    onDeadLetter: (letter, topic) => deps.onDeadLetter(letter, Topics.deadLettersOf(topic)),
    onConsumed: deps.onConsumed,
    onTransientError: deps.onTransientError,
    onError: deps.onError,
    now: Date.now,
  });
  hosts.onCrash((worker) => dispatcher.workerLost(worker));
  hosts.onRestart((worker) => {
    dispatcher.replayWorker(worker).catch(deps.onError);
  });
  dispatcher.start();
  return {
    hosts,
    dispatcher,
    markDone: (worker, batch) => dispatcher.markDone(worker, batch),
    async stop(budget) {
      try {
        await dispatcher.stop(budget);
      } finally {
        await hosts.stop(budget?.forWorkMs());
      }
    },
  };
}
