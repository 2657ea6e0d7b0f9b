/**
 * The Bun worker behind `aedes-worker-broker.ts`: runs the embedded aedes broker on its own
 * thread, so a busy broker never stalls the node's main thread (ingest, log, API).
 * Protocol: main posts {type:"start", host, port, maxPacketBytes?, access?, ackChain?}; the worker answers {type:"started", port}
 * or {type:"failed", message}; {type:"drain", clientId, timeoutMs} answers {type:"drained",
 * waiting}; {type:"stop"} answers {type:"stopped"}.
 *
 * The ingest's subscriber (aedes-thread-subscriber.ts) runs here too, beside the broker, so the
 * MQTT packets to the ingest are read and parsed on this thread, not on the main one:
 * {type:"ingest-start", options} answers {type:"ingest-started"} or {type:"failed"}; each batch
 * goes to main as {type:"ingest-batch", seq, buffer, newTopics} (ingest-batch-transfer.ts, the buffer transferred), and
 * main answers {type:"ingest-done", seq, error?} once the batch is durable (or has failed): the
 * subscriber PUBACKs it only then, and the ack chain releases the devices' PUBACKs behind that.
 * {type:"ingest-error", code, message} reports the subscriber's errors; {type:"ingest-stats"}
 * carries its counters (after each batch and every STATS_INTERVAL_MS); {type:"ingest-stop"}
 * hands over what was received and answers {type:"ingest-stopped", stats}.
 */
import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import type { AckChainOptions } from "./aedes-ack-chain.ts";
import { createAedesBroker } from "./aedes-broker.ts";
import type { ThreadSubscriberOptions } from "./aedes-thread-subscriber.ts";
import { createIngestBatchPacker } from "./ingest-batch-transfer.ts";
import type { MqttAccessOptions } from "./mqtt-access-policy.ts";
import { createMqttSubscriber, type MqttSubscriber } from "./mqtt-subscriber.ts";

type Command =
  | {
      type: "start";
      host: string;
      port: number;
      maxPacketBytes?: number;
      access?: MqttAccessOptions;
      ackChain?: AckChainOptions;
    }
  | { type: "drain"; clientId: string; timeoutMs: number }
  | { type: "stop" }
  | { type: "ingest-start"; options: ThreadSubscriberOptions }
  | { type: "ingest-done"; seq: number; error?: string }
  | { type: "ingest-stop" };

/** how often the subscriber's counters go to main when no batch carries them */
const STATS_INTERVAL_MS = 50;

const scope = globalThis as unknown as {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  addEventListener(type: "message", listener: (event: MessageEvent<Command>) => void): void;
};
let broker: ReturnType<typeof createAedesBroker> | undefined;
let ingest: MqttSubscriber | undefined;
let statsTimer: ReturnType<typeof setInterval> | undefined;
let nextSeq = 0;
/** batches at main, by sequence number: settled by main's ingest-done */
const atMain = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();

const failed = (error: unknown) =>
  scope.postMessage({ type: "failed", message: error instanceof Error ? error.message : String(error) });

function startIngest(options: ThreadSubscriberOptions): void {
  if (!broker || ingest) {
    failed(new Error("ingest subscriber: no broker, or one already runs"));
    return;
  }
  // a fresh topic table for a fresh subscriber: main starts its own with the start
  const packer = createIngestBatchPacker();
  const subscriber = createMqttSubscriber({
    ...options,
    url: broker.url(),
    onBatch: (batch) =>
      new Promise<void>((resolve, reject) => {
        const seq = nextSeq++;
        atMain.set(seq, { resolve, reject });
        const { buffer, newTopics } = packer.pack(batch);
        scope.postMessage({ type: "ingest-batch", seq, buffer, newTopics }, [buffer]);
      }),
    // the cause crosses as its message (an Error does not survive the structured clone whole)
    onError: (error) =>
      scope.postMessage({
        type: "ingest-error",
        code: error.code,
        message: error.message,
        ...(error.cause instanceof Error ? { cause: error.cause.message } : {}),
      }),
  });
  subscriber.start().then(() => {
    ingest = subscriber;
    statsTimer = setInterval(
      () => scope.postMessage({ type: "ingest-stats", stats: subscriber.stats() }),
      STATS_INTERVAL_MS,
    );
    scope.postMessage({ type: "ingest-started", stats: subscriber.stats() });
  }, failed);
}

function stopIngest(): void {
  const subscriber = ingest;
  ingest = undefined;
  if (statsTimer) clearInterval(statsTimer);
  statsTimer = undefined;
  (subscriber?.stop() ?? Promise.resolve()).then(
    () => scope.postMessage({ type: "ingest-stopped", stats: subscriber?.stats() }),
    failed,
  );
}

scope.addEventListener("message", (event) => {
  const command = event.data;
  switch (command.type) {
    case "start":
      broker = createAedesBroker({
        host: command.host,
        port: command.port,
        ...(command.maxPacketBytes ? { maxPacketBytes: command.maxPacketBytes } : {}),
        ...(command.access ? { access: command.access } : {}),
        ...(command.ackChain ? { ackChain: command.ackChain } : {}),
      });
      broker
        .start()
        .then(
          () => scope.postMessage({ type: "started", port: Number(new URL(broker!.url()).port) }),
          failed,
        );
      return;
    case "drain":
      (broker?.drain?.(command.clientId, command.timeoutMs) ?? Promise.resolve(0)).then(
        (waiting) => scope.postMessage({ type: "drained", waiting }),
        failed,
      );
      return;
    case "ingest-start":
      return startIngest(command.options);
    case "ingest-done": {
      const batch = atMain.get(command.seq);
      atMain.delete(command.seq);
      if (command.error === undefined) batch?.resolve();
      // the subscriber reports it (onError) and retries the batch, unacknowledged meanwhile
      else batch?.reject(new PlatformError(ErrorCodes.INFRA_UNAVAILABLE, command.error));
      if (ingest) scope.postMessage({ type: "ingest-stats", stats: ingest.stats() });
      return;
    }
    case "ingest-stop":
      return stopIngest();
    case "stop":
      if (statsTimer) clearInterval(statsTimer);
      (broker?.stop() ?? Promise.resolve()).then(() => scope.postMessage({ type: "stopped" }), failed);
      return;
  }
});
