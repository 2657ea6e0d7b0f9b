import { type ErrorCode, ErrorCodes, PlatformError } from "../../messages/errors.ts";
import { createIngestBatchUnpacker, type PackedIngestBatch } from "./ingest-batch-transfer.ts";
import {
  type MqttSubscriber,
  type MqttSubscriberOptions,
  type MqttSubscriberStats,
  SUBSCRIBER_NOT_STARTED,
} from "./mqtt-subscriber.ts";

/**
 * The ingest's subscriber for the embedded broker: the MQTT client runs on the broker's own
 * thread (aedes-thread.ts), and the main thread receives each batch as one transferred buffer
 * (ingest-batch-transfer.ts). Over TCP, every reading's PUBLISH was read from a socket and parsed
 * by mqtt.js on the main thread, the node's busiest (its receive was ~7 % of the main thread's
 * CPU at 20k readings/s); now that work shares the broker's thread, and the main thread only
 * unpacks a buffer and answers once the batch is durable.
 *
 * The contract is the TCP subscriber's (mqtt-subscriber.ts), because it is that subscriber, on
 * the other thread: same persistent session and client id (the ack chain waits for it), PUBACK
 * only after `onBatch` resolved, retries of a failed batch, back-pressure at `maxBuffered`, and a
 * stop that hands over what was received. `stats()` answers from the counters the broker's
 * thread sends after each batch and every 50 ms, so they may lag by that much.
 */
export type ThreadSubscriberOptions = Omit<
  MqttSubscriberOptions,
  "url" | "onBatch" | "onError" | "onClosed" | "clock"
>;

/** the broker's worker, as far as the subscriber needs it */
export interface BrokerThread {
  postMessage(message: unknown): void;
  addEventListener(type: "message", listener: (event: MessageEvent) => void): void;
  removeEventListener(type: "message", listener: (event: MessageEvent) => void): void;
}

type Reply =
  | { type: "ingest-started"; stats: MqttSubscriberStats }
  | { type: "ingest-stopped"; stats: MqttSubscriberStats | undefined }
  | { type: "ingest-stats"; stats: MqttSubscriberStats }
  | ({ type: "ingest-batch"; seq: number } & PackedIngestBatch)
  | { type: "ingest-error"; code: ErrorCode; message: string; cause?: string }
  | { type: "failed"; message: string };

export function createAedesThreadSubscriber(
  thread: () => BrokerThread,
  options: Omit<MqttSubscriberOptions, "url">,
): MqttSubscriber {
  const { onBatch, onError, onClosed: _onClosed, clock: _clock, ...threadOptions } = options;
  let stats = SUBSCRIBER_NOT_STARTED;
  let running: BrokerThread | undefined;
  let waiting: { expect: Reply["type"]; resolve: () => void; reject: (error: Error) => void } | undefined;

  /** the topic table of the thread's packer, new with every start */
  let unpacker = createIngestBatchUnpacker();

  const deliver = (target: BrokerThread, seq: number, batch: PackedIngestBatch) => {
    const answer = (error?: unknown) =>
      target.postMessage({
        type: "ingest-done",
        seq,
        ...(error === undefined ? {} : { error: error instanceof Error ? error.message : String(error) }),
      });
    try {
      Promise.resolve(onBatch(unpacker.unpack(batch))).then(() => answer(), answer);
    } catch (error) {
      answer(error);
    }
  };

  const onMessage = (event: MessageEvent<Reply>) => {
    const reply = event.data;
    switch (reply.type) {
      case "ingest-batch":
        if (running) deliver(running, reply.seq, reply);
        return;
      case "ingest-stats":
        stats = reply.stats;
        return;
      case "ingest-error":
        onError?.(
          new PlatformError(reply.code, withoutCode(reply.code, reply.message), {
            ...(reply.cause === undefined ? {} : { cause: new Error(reply.cause) }),
          }),
        );
        return;
      case "ingest-started":
      case "ingest-stopped":
        if (reply.stats) stats = reply.stats;
        if (waiting?.expect === reply.type) settle();
        return;
      case "failed":
        if (waiting)
          settle(
            new PlatformError(
              ErrorCodes.INFRA_UNAVAILABLE,
              `MQTT subscriber on the broker's thread: ${reply.message}`,
            ),
          );
        return;
    }
  };
  const settle = (error?: Error) => {
    const w = waiting;
    waiting = undefined;
    if (error) w?.reject(error);
    else w?.resolve();
  };
  const request = (target: BrokerThread, message: unknown, expect: Reply["type"]) =>
    new Promise<void>((resolve, reject) => {
      waiting = { expect, resolve, reject };
      target.postMessage(message);
    });

  return {
    async start() {
      if (running) return;
      const target = thread();
      unpacker = createIngestBatchUnpacker();
      target.addEventListener("message", onMessage);
      running = target;
      try {
        await request(target, { type: "ingest-start", options: threadOptions }, "ingest-started");
      } catch (error) {
        target.removeEventListener("message", onMessage);
        running = undefined;
        throw error;
      }
    },
    async stop() {
      const target = running;
      if (!target) return;
      // batches keep arriving and are answered while the thread's subscriber hands over
      try {
        await request(target, { type: "ingest-stop" }, "ingest-stopped");
      } finally {
        target.removeEventListener("message", onMessage);
        running = undefined;
        stats = { ...stats, connected: false };
      }
    },
    stats: () => stats,
  };
}

function withoutCode(code: string, message: string): string {
  return message.startsWith(`${code}: `) ? message.slice(code.length + 2) : message;
}
