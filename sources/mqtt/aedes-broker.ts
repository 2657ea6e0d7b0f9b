import { createServer, type Server, type Socket } from "node:net";
import { Aedes } from "aedes";
import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import { installAccessHooks } from "./aedes-access-hooks.ts";
import { type AckChain, type AckChainOptions, installAckChain } from "./aedes-ack-chain.ts";
import type { MqttAccessOptions } from "./mqtt-access-policy.ts";
import type { MqttBroker } from "./mqtt-broker.ts";
import { createPacketSizeGuard, MAX_MQTT_PACKET_BYTES } from "./packet-size-guard.ts";
import { coalesceWrites } from "./socket-write-coalescing.ts";

export interface AedesBrokerOptions {
  /** default 127.0.0.1: the embedded broker is not meant to face a network */
  readonly host?: string;
  /** default 0: a free port, read it back from `url()` */
  readonly port?: number;
  /** a client announcing a larger packet is disconnected; default MAX_MQTT_PACKET_BYTES */
  readonly maxPacketBytes?: number;
  /** who may connect, publish and subscribe (mqtt-access-policy.ts); default: open to anyone */
  readonly access?: MqttAccessOptions;
  /**
   * a device's QoS 1 PUBACK waits for these ingest sessions' acks (aedes-ack-chain.ts); without
   * it aedes acknowledges a publish before it has even routed it
   */
  readonly ackChain?: AckChainOptions;
  /**
   * how long a connection's writes are held to leave in one send (socket-write-coalescing.ts);
   * default WRITE_COALESCE_MS, 0 sends at the end of each event-loop turn
   */
  readonly writeCoalesceMs?: number;
}

const DRAIN_POLL_MS = 10;
/**
 * off by default: holding writes 1 ms cut the broker thread's CPU by ~0.69x but raised the e2e
 * p50 / p99 on a quiet machine (32.1 vs 22.9 ms, 285 vs 218 ms at 10k/s; bench/RESULTS.md), and
 * latency is the target there. Pass writeCoalesceMs: 1 where CPU is scarcer than latency.
 */
const WRITE_COALESCE_MS = 0;

/** what aedes has at runtime (aedes.js) but leaves out of its type declarations */
interface AedesInternals {
  readonly clients: Record<string, { readonly closed: boolean; close(): void }>;
  readonly persistence: { outgoingStream(client: unknown): AsyncIterable<unknown> };
}

/** The embedded MQTT broker: aedes behind a plain `node:net` TCP server. */
export function createAedesBroker(options: AedesBrokerOptions = {}): MqttBroker {
  const host = options.host ?? "127.0.0.1";
  let broker: Aedes | undefined;
  let server: Server | undefined;
  let boundPort: number | undefined;
  let chain: AckChain | undefined;
  const sockets = new Set<Socket>();
  // close() of a server once (drain, then stop): resolves when the last connection is gone
  let listenerClosed: Promise<void> | undefined;
  const stopListening = (s: Server) =>
    // the only error close() reports is "not running": then it is closed already
    (listenerClosed ??= new Promise<void>((resolve) => s.close(() => resolve())));

  return {
    name: "aedes",
    async start() {
      if (server) return;
      const instance = await Aedes.createBroker(options.access ? installAccessHooks(options.access) : {});
      // after the access hooks: the chain wraps their decision
      chain = options.ackChain ? installAckChain(instance, options.ackChain) : undefined;
      const maxPacketBytes = options.maxPacketBytes ?? MAX_MQTT_PACKET_BYTES;
      const writeCoalesceMs = options.writeCoalesceMs ?? WRITE_COALESCE_MS;
      const tcp = createServer((socket) => {
        sockets.add(socket);
        socket.once("close", () => sockets.delete(socket));
        if (writeCoalesceMs > 0) coalesceWrites(socket, writeCoalesceMs);
        // aedes reads with read() on 'readable'; a 'data' listener then sees each chunk as it
        // is read, before the parser has buffered more than one socket read of an oversized packet
        const guard = createPacketSizeGuard(maxPacketBytes);
        socket.on("data", (chunk: Uint8Array) => {
          if (guard(chunk) !== undefined) socket.destroy();
        });
        instance.handle(socket);
      });
      await new Promise<void>((resolve, reject) => {
        tcp.once("error", (error) =>
          reject(
            new PlatformError(
              ErrorCodes.INFRA_UNAVAILABLE,
              `aedes cannot listen on ${host}:${options.port ?? 0}`,
              {
                cause: error,
              },
            ),
          ),
        );
        tcp.listen(options.port ?? 0, host, () => resolve());
      });
      const address = tcp.address();
      boundPort = typeof address === "object" && address !== null ? address.port : undefined;
      broker = instance;
      server = tcp;
      listenerClosed = undefined;
    },
    async stop() {
      const [b, s] = [broker, server];
      broker = undefined;
      server = undefined;
      if (!b || !s) return;
      chain?.close();
      chain = undefined;
      await new Promise<void>((resolve) => b.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await stopListening(s);
    },
    async drain(clientId, timeoutMs) {
      const s = server;
      const b = broker as unknown as AedesInternals | undefined;
      if (!b || !s) return 0;
      // no new connections, and every client but `clientId` goes: nobody publishes any more
      void stopListening(s);
      for (const [id, client] of Object.entries(b.clients)) if (id !== clientId) client.close();
      const receiver = b.clients[clientId];
      if (!receiver) return 0;
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        let waiting = 0;
        for await (const _ of b.persistence.outgoingStream(receiver)) waiting++;
        if (waiting === 0 || Date.now() >= deadline || receiver.closed) return waiting;
        await new Promise((resolve) => setTimeout(resolve, DRAIN_POLL_MS));
      }
    },
    url() {
      if (!server || boundPort === undefined) {
        throw new PlatformError(ErrorCodes.CONFIG_INVALID, "the aedes broker has no URL before start()");
      }
      return `mqtt://${host}:${boundPort}`;
    },
  };
}
