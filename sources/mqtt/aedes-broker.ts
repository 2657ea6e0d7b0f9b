import { createServer, type Server, type Socket } from "node:net";
import { Aedes } from "aedes";
import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import type { MqttBroker } from "./mqtt-broker.ts";

export interface AedesBrokerOptions {
  /** default 127.0.0.1: the embedded broker is not meant to face a network */
  readonly host?: string;
  /** default 0: a free port, read it back from `url()` */
  readonly port?: number;
}

/** The embedded MQTT broker: aedes behind a plain `node:net` TCP server. */
export function createAedesBroker(options: AedesBrokerOptions = {}): MqttBroker {
  const host = options.host ?? "127.0.0.1";
  let broker: Aedes | undefined;
  let server: Server | undefined;
  let boundPort: number | undefined;
  const sockets = new Set<Socket>();

  return {
    name: "aedes",
    async start() {
      if (server) return;
      const instance = await Aedes.createBroker();
      const tcp = createServer((socket) => {
        sockets.add(socket);
        socket.once("close", () => sockets.delete(socket));
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
    },
    async stop() {
      const [b, s] = [broker, server];
      broker = undefined;
      server = undefined;
      if (!b || !s) return;
      await new Promise<void>((resolve) => b.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve, reject) => s.close((error) => (error ? reject(error) : resolve())));
    },
    url() {
      if (!server || boundPort === undefined) {
        throw new PlatformError(ErrorCodes.CONFIG_INVALID, "the aedes broker has no URL before start()");
      }
      return `mqtt://${host}:${boundPort}`;
    },
  };
}
