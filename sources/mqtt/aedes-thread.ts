/**
 * The Bun worker behind `aedes-worker-broker.ts`: runs the embedded aedes broker on its own
 * thread, so a busy broker never stalls the node's main thread (ingest, log, API).
 * Protocol: main posts {type:"start", host, port, maxPacketBytes?, access?, ackChain?}; the worker answers {type:"started", port}
 * or {type:"failed", message}; {type:"drain", clientId, timeoutMs} answers {type:"drained",
 * waiting}; {type:"stop"} answers {type:"stopped"}.
 */
import type { AckChainOptions } from "./aedes-ack-chain.ts";
import { createAedesBroker } from "./aedes-broker.ts";
import type { MqttAccessOptions } from "./mqtt-access-policy.ts";

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
  | { type: "stop" };

const scope = globalThis as unknown as {
  postMessage(message: unknown): void;
  addEventListener(type: "message", listener: (event: MessageEvent<Command>) => void): void;
};
let broker: ReturnType<typeof createAedesBroker> | undefined;

scope.addEventListener("message", (event) => {
  const command = event.data;
  if (command.type === "start") {
    broker = createAedesBroker({
      host: command.host,
      port: command.port,
      ...(command.maxPacketBytes ? { maxPacketBytes: command.maxPacketBytes } : {}),
      ...(command.access ? { access: command.access } : {}),
      ...(command.ackChain ? { ackChain: command.ackChain } : {}),
    });
    broker.start().then(
      () => scope.postMessage({ type: "started", port: Number(new URL(broker!.url()).port) }),
      (error: unknown) =>
        scope.postMessage({
          type: "failed",
          message: error instanceof Error ? error.message : String(error),
        }),
    );
    return;
  }
  if (command.type === "drain") {
    (broker?.drain?.(command.clientId, command.timeoutMs) ?? Promise.resolve(0)).then(
      (waiting) => scope.postMessage({ type: "drained", waiting }),
      (error: unknown) => scope.postMessage({ type: "failed", message: String(error) }),
    );
    return;
  }
  (broker?.stop() ?? Promise.resolve()).then(
    () => scope.postMessage({ type: "stopped" }),
    (error: unknown) => scope.postMessage({ type: "failed", message: String(error) }),
  );
});
