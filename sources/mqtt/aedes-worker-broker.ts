import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import type { AedesBrokerOptions } from "./aedes-broker.ts";
import { createAedesThreadSubscriber } from "./aedes-thread-subscriber.ts";
import type { MqttBroker } from "./mqtt-broker.ts";
import type { MqttSubscriber, MqttSubscriberOptions } from "./mqtt-subscriber.ts";

/**
 * The embedded aedes broker on its own Bun worker thread (`aedes-thread.ts`). Same contract as
 * `aedes-broker.ts`; the node uses this one so that at tens of thousands of messages a second
 * the broker's work competes for a core, not for the main thread's event loop.
 */
type Reply =
  | { type: "started"; port: number }
  | { type: "failed"; message: string }
  | { type: "drained"; waiting: number }
  | { type: "stopped" };

export interface AedesWorkerBroker extends MqttBroker {
  /**
   * the ingest's subscriber, run on the broker's thread (aedes-thread-subscriber.ts); start it
   * after the broker, stop it before
   */
  ingestSubscriber(options: Omit<MqttSubscriberOptions, "url">): MqttSubscriber;
}

export function createAedesWorkerBroker(options: AedesBrokerOptions = {}): AedesWorkerBroker {
  const host = options.host ?? "127.0.0.1";
  let worker: Worker | undefined;
  let boundPort: number | undefined;

  const request = (target: Worker, message: unknown, expect: Reply["type"]) =>
    new Promise<Reply>((resolve, reject) => {
      const onMessage = (event: MessageEvent<Reply>) => {
        if (event.data.type !== expect && event.data.type !== "failed") return;
        target.removeEventListener("message", onMessage);
        if (event.data.type === "failed")
          reject(new PlatformError(ErrorCodes.INFRA_UNAVAILABLE, `aedes worker: ${event.data.message}`));
        else resolve(event.data);
      };
      target.addEventListener("message", onMessage);
      target.postMessage(message);
    });

  return {
    name: "aedes",
    async start() {
      if (worker) return;
      const started = new Worker(new URL("./aedes-thread.ts", import.meta.url).href);
      try {
        const reply = await request(
          started,
          {
            type: "start",
            host,
            port: options.port ?? 0,
            maxPacketBytes: options.maxPacketBytes,
            access: options.access,
            ackChain: options.ackChain,
          },
          "started",
        );
        boundPort = reply.type === "started" ? reply.port : undefined;
        worker = started;
      } catch (error) {
        started.terminate();
        throw error;
      }
    },
    async stop() {
      const running = worker;
      worker = undefined;
      if (!running) return;
      try {
        await request(running, { type: "stop" }, "stopped");
      } finally {
        running.terminate();
      }
    },
    async drain(clientId, timeoutMs) {
      if (!worker) return 0;
      const reply = await request(worker, { type: "drain", clientId, timeoutMs }, "drained");
      return reply.type === "drained" ? reply.waiting : 0;
    },
    ingestSubscriber: (subscriberOptions) =>
      createAedesThreadSubscriber(() => {
        if (!worker)
          throw new PlatformError(
            ErrorCodes.CONFIG_INVALID,
            "the aedes broker's subscriber needs the broker started",
          );
        return worker;
      }, subscriberOptions),
    url() {
      if (!worker || boundPort === undefined)
        throw new PlatformError(ErrorCodes.CONFIG_INVALID, "the aedes broker has no URL before start()");
      return `mqtt://${host}:${boundPort}`;
    },
  };
}
