import { createServer, type Server, type Socket } from "node:net";
import { type ChoosePort, freePort } from "../../testkit/free-port.ts";

/**
 * A listener holding a port, and a port chooser that hands that taken port out as its
 * `position`-th answer (0 = first), free ports otherwise: the race of a port taken between
 * `freePort()` answering and the server binding it, made to happen every time.
 */
export interface PortSquatter {
  readonly port: number;
  readonly choosePort: ChoosePort;
  /** how many ports the chooser handed out */
  handedOut(): number;
  release(): Promise<void>;
}

export async function squatPort(position = 0, port = 0): Promise<PortSquatter> {
  const connections = new Set<Socket>();
  // it accepts and never answers; its connections end with it, or close() would wait for them
  const server: Server = createServer((socket) => {
    connections.add(socket);
    socket.on("close", () => connections.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  const address = server.address();
  if (typeof address !== "object" || address === null) throw new Error("the squatter has no port");
  let handed = 0;
  let released: Promise<void> | undefined;
  return {
    port: address.port,
    async choosePort() {
      return handed++ === position ? address.port : freePort();
    },
    handedOut: () => handed,
    // once only, whoever asks first (a hook in the middle of a start, then the test's cleanup)
    release: () => {
      released ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of connections) socket.destroy();
      });
      return released;
    },
  };
}
