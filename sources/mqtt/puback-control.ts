import type { MqttClient, Packet } from "mqtt";

/**
 * Control over when a QoS 1 PUBACK leaves the client, which mqtt.js does not offer: its packet
 * loop handles one packet at a time and moves on only once the PUBACK of a publish has been
 * written, right after `handleMessage` calls back (handlers/publish.js, client.js `work`).
 * Holding that callback until an append is durable would allow one message per append.
 *
 * So the client's `_sendPacket` (the method mqtt.js's own handlers call) is wrapped: a PUBACK
 * from the packet loop is swallowed and the loop continues at once, or later when the subscriber
 * asks for a pause (back-pressure). The subscriber sends the real PUBACK itself when the message
 * is durable, and only on the connection the message arrived on: message ids belong to a
 * connection's session state, and a PUBACK written after a reconnect could acknowledge another
 * message that reused the id. mqtt.js would queue a PUBACK written while disconnected and send
 * it after the reconnect; that is exactly what `sendAck` refuses.
 */
export interface HeldAck {
  readonly messageId: number;
  /** the connection the message arrived on (see PacketLoop.connection) */
  readonly connection: number;
}

export interface PacketLoop {
  /** the current connection's number: changes at every connect and every close */
  connection(): number;
  /** run `next` (the packet loop's continuation) now, or hold it until `resume()` */
  pace(next: () => void, pause: boolean): void;
  /** let a held packet loop read on */
  resume(): void;
  paused(): boolean;
  /** write the PUBACK; false when its connection has closed (the broker will redeliver) */
  sendAck(ack: HeldAck): boolean;
}

type SendPacket = (packet: Packet, callback?: (error?: Error) => void, ...rest: unknown[]) => void;

export function takeOverPubacks(
  client: MqttClient,
  mustPause: () => boolean,
  onPause: () => void,
): PacketLoop {
  const internals = client as unknown as { _sendPacket: SendPacket };
  const send: SendPacket = internals._sendPacket.bind(client);
  let connection = 0;
  let held: (() => void) | undefined;

  const pace = (next: () => void, pause: boolean) => {
    if (!pause) return next();
    if (!held) onPause();
    held = next;
  };
  internals._sendPacket = (packet, callback, ...rest) => {
    if (packet.cmd !== "puback") return send(packet, callback, ...rest);
    pace(() => callback?.(), mustPause());
  };
  client.on("connect", () => {
    connection++;
  });
  client.on("close", () => {
    connection++;
    // the closed connection's packet loop is superseded: let it run out
    const release = held;
    held = undefined;
    release?.();
  });

  return {
    connection: () => connection,
    pace,
    resume() {
      const release = held;
      held = undefined;
      release?.();
    },
    paused: () => held !== undefined,
    sendAck(ack) {
      if (ack.connection !== connection || !client.connected) return false;
      send({ cmd: "puback", messageId: ack.messageId, reasonCode: 0 });
      return true;
    },
  };
}
