import { connect, createServer, type Server, type Socket } from "node:net";

/**
 * A TCP proxy on loopback between Kafka clients and a real broker, for the failures a broker
 * cannot be asked to produce: a fetched record batch with a flipped byte (corruption on the way:
 * a NIC, a middlebox), a broker that stops answering.
 *
 * It reads the Kafka protocol's framing only (Kafka protocol guide, "Common Request and Response
 * Structure"): every message is an int32 size and that many bytes; a request starts with
 * api_key int16, api_version int16, correlation_id int32, a response with its correlation_id.
 * Requests are remembered by correlation id per connection so each response is known by its API:
 * - Metadata (3) and FindCoordinator (10) name brokers as host string + port int32: the
 *   upstream's port after its host is replaced by the proxy's, so every later connection of the
 *   client (the leader's fetches, the group coordinator) comes through the proxy too;
 * - Fetch (1) responses go through `onFetchResponse`, which may change their bytes in place.
 * With `blackhole` set, requests are swallowed: the connections stay open and nothing answers.
 */
export const ApiKeys = { fetch: 1, metadata: 3, findCoordinator: 10 } as const;

export interface KafkaProxyOptions {
  readonly upstreamHost: string;
  readonly upstreamPort: number;
  /** a Fetch response frame (size prefix excluded), to inspect or change in place */
  readonly onFetchResponse?: (frame: Uint8Array) => void;
}

export interface KafkaProxy {
  readonly port: number;
  /** while true, no request reaches the broker (and so no response comes back) */
  blackhole: boolean;
  close(): Promise<void>;
}

export async function startKafkaProxy(options: KafkaProxyOptions): Promise<KafkaProxy> {
  const sockets = new Set<Socket>();
  let port = 0;
  // the broker names itself as it is configured to (advertised.listeners), not as it was dialled
  const advertisedHosts = [...new Set([options.upstreamHost, "127.0.0.1", "localhost"])];
  const proxy: KafkaProxy = {
    get port() {
      return port;
    },
    blackhole: false,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
  const server: Server = createServer((client) => {
    const upstream = connect(options.upstreamPort, options.upstreamHost);
    sockets.add(client);
    sockets.add(upstream);
    const apiOf = new Map<number, number>();
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("error", end);
    upstream.on("error", end);
    client.on("close", end);
    upstream.on("close", end);
    client.on(
      "data",
      framed((frame) => {
        if (proxy.blackhole) return;
        const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
        apiOf.set(view.getInt32(4), view.getInt16(0));
        upstream.write(withSize(frame));
      }),
    );
    upstream.on(
      "data",
      framed((frame) => {
        const correlationId = new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getInt32(0);
        const api = apiOf.get(correlationId);
        apiOf.delete(correlationId);
        if (api === ApiKeys.metadata || api === ApiKeys.findCoordinator)
          for (const host of advertisedHosts) replaceBrokerPort(frame, host, options.upstreamPort, port);
        else if (api === ApiKeys.fetch) options.onFetchResponse?.(frame);
        client.write(withSize(frame));
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as { port: number }).port;
  return proxy;
}

/** a data handler that hands on whole frames (without their size) however the stream splits them */
function framed(onFrame: (frame: Uint8Array) => void): (chunk: Buffer) => void {
  let pending = new Uint8Array(0);
  return (chunk) => {
    const joined = new Uint8Array(pending.length + chunk.length);
    joined.set(pending);
    joined.set(chunk, pending.length);
    let at = 0;
    while (joined.length - at >= 4) {
      const size = new DataView(joined.buffer, at, 4).getInt32(0);
      if (joined.length - at - 4 < size) break;
      onFrame(joined.slice(at + 4, at + 4 + size));
      at += 4 + size;
    }
    pending = joined.slice(at);
  };
}

function withSize(frame: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + frame.length);
  new DataView(out.buffer).setInt32(0, frame.length);
  out.set(frame, 4);
  return out;
}

/** every `host` followed by int32 `from` gets `to` as its port (the same length: nothing moves) */
function replaceBrokerPort(frame: Uint8Array, host: string, from: number, to: number): void {
  const pattern = new Uint8Array(host.length + 4);
  pattern.set(new TextEncoder().encode(host));
  new DataView(pattern.buffer).setInt32(host.length, from);
  for (let at = indexOf(frame, pattern, 0); at >= 0; at = indexOf(frame, pattern, at + pattern.length))
    new DataView(frame.buffer, frame.byteOffset, frame.byteLength).setInt32(at + host.length, to);
}

export function indexOf(bytes: Uint8Array, pattern: Uint8Array, from: number): number {
  outer: for (let at = from; at <= bytes.length - pattern.length; at++) {
    for (let i = 0; i < pattern.length; i++) if (bytes[at + i] !== pattern[i]) continue outer;
    return at;
  }
  return -1;
}
