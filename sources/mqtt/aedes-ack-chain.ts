import type { Aedes, Client, PublishPacket } from "aedes";

/**
 * Acknowledgement chaining for the embedded broker: a device's QoS 1 PUBACK leaves only once
 * every ingest session the reading was queued for has acknowledged it (and the ingest PUBACKs
 * only after its durable append, puback-control.ts), as a bridge with end-to-end acks would.
 * aedes alone PUBACKs a QoS 1 publish before it even routes it (lib/handlers/publish.js writes
 * the PUBACK, then calls broker.publish), so a kill -9 of the node lost every reading it had
 * acknowledged and not yet delivered; with the chain, the device still holds each of those and
 * resends it when it reconnects (mqtt.js resends unacknowledged QoS 1 publishes).
 *
 * The hooks, all on the instance (aedes looks them up there for every packet):
 * - `authorizePublish`: after the real decision, a device's QoS 1 publish is taken over: its qos
 *   is set to 0 for the rest of aedes' handler, which then writes no PUBACK and calls publish;
 * - `publish`: a taken-over packet gets its qos back and its brokerCounter from aedes' own
 *   counter (every copy of it keeps that id: queued, delivered, redelivered, acknowledged);
 * - `persistence.outgoingEnqueueCombi`: the persistent sessions it is queued for are noted
 *   (online or offline: aedes queues a QoS 1 message for every persistent subscriber first);
 * - the `ack` event: an ingest session's PUBACK of that brokerCounter.
 * The publish's own callback (routed everywhere) and the last ack release the PUBACK. A reading
 * queued for no ingest session is acknowledged once routed, as aedes would.
 *
 * A fresh broker (the node restarted) knows no ingest session until the ingest has subscribed
 * again: a reading published before that would be routed to nobody and acknowledged. So until
 * an ingest session has subscribed, every other client's CONNACK waits (the embedded counterpart
 * of Mosquitto keeping the ingest's session across its restarts). Not refused: mqtt.js gives up
 * for good after a refused CONNACK unless told otherwise, and waits out a slow one (its
 * connectTimeout, then a reconnect). At most MAX_WAITING_CONNECTS wait; more are refused with
 * "server unavailable".
 *
 * PUBACKs leave in the order the publishes arrived on their connection (MQTT-4.6.0-2), so a
 * reading nobody waits for can wait behind one that is. Bounds, so that an ingest that never
 * answers does not grow memory: at most `maxPending` readings wait (the next QoS 1 publish is
 * refused, which closes its connection: MQTT 3.1.1 has no negative PUBACK), and a connection
 * whose oldest waiting reading is older than `timeoutMs` is closed. Either way the device was
 * not acknowledged and resends on reconnect: nothing acknowledged is lost; the price is a reading
 * that may arrive twice (appended, PUBACK lost), which the sensor's quality check marks a
 * duplicate (same sensor and event time) and keeps out of the windows.
 */
export interface AckChainOptions {
  /** the ingest sessions: persistent sessions whose client id starts with this are waited for */
  readonly subscriberIdPrefix: string;
  /** a connection whose oldest unacknowledged reading waited longer is closed; default 30 s */
  readonly timeoutMs?: number;
  /** readings waiting for their ingest at once, all connections; default 65,536 */
  readonly maxPending?: number;
}

export interface AckChain {
  /** readings whose device PUBACK is held */
  pending(): number;
  /** stop the timeout sweep (the broker closes) */
  close(): void;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_PENDING = 65_536;
/** devices whose CONNACK waits for the ingest's first subscription */
const MAX_WAITING_CONNECTS = 10_000;
/** CONNACK return code 3 (MQTT 3.1.1): the client is expected to try again */
const SERVER_UNAVAILABLE = 3;

interface Held {
  readonly client: Client;
  readonly messageId: number;
  readonly since: number;
  /** ingest session ids that have not acknowledged it yet */
  readonly waiting: Set<string>;
  /** the broker's publish has called back: no session can be added any more */
  routed: boolean;
  brokerCounter: number;
}

/** aedes runtime members left out of its type declarations (aedes.js, lib/client.js) */
interface AedesRuntime {
  id: string;
  counter: number;
  persistence: { outgoingEnqueueCombi(subs: { clientId: string }[], packet: unknown): Promise<void> };
}
interface ClientRuntime {
  readonly closed: boolean;
  readonly connected: boolean;
  readonly clean: boolean;
  readonly conn: { write(chunk: Uint8Array): boolean; destroy(): void };
}
interface TrackedPacket {
  brokerId?: string;
  brokerCounter?: number;
}
type PublishFn = (packet: PublishPacket, client: Client | null, done: (error?: Error) => void) => void;
type AuthenticateDone = (error: Error | null, success: boolean | null) => void;
type AuthenticateFn = (
  client: Client,
  username: string | undefined,
  password: Buffer | undefined,
  done: AuthenticateDone,
) => void;
type AuthorizePublishFn = (
  client: Client | null,
  packet: PublishPacket,
  done: (error?: Error | null) => void,
) => void;

export function installAckChain(instance: Aedes, options: AckChainOptions): AckChain {
  const runtime = instance as unknown as AedesRuntime;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxPending = options.maxPending ?? DEFAULT_MAX_PENDING;
  const isIngest = (clientId: string) => clientId.startsWith(options.subscriberIdPrefix);

  /** by brokerCounter, once published */
  const byCounter = new Map<number, Held>();
  /** per device connection, in arrival order */
  const queues = new Map<Client, Held[]>();
  /** publishes taken over between authorize and publish */
  const takenOver = new WeakMap<PublishPacket, Held>();
  let held = 0;

  const dropConnection = (client: Client) => {
    const queue = queues.get(client);
    if (!queue) return;
    queues.delete(client);
    held -= queue.length;
    for (const entry of queue) byCounter.delete(entry.brokerCounter);
  };

  const flush = (client: Client) => {
    const queue = queues.get(client);
    if (!queue) return;
    const connection = client as unknown as ClientRuntime;
    if (connection.closed || !connection.connected) return dropConnection(client);
    let released = 0;
    while (released < queue.length) {
      const entry = queue[released]!;
      if (!entry.routed || entry.waiting.size > 0) break;
      byCounter.delete(entry.brokerCounter);
      connection.conn.write(pubackBytes(entry.messageId));
      released++;
    }
    if (released === 0) return;
    held -= released;
    if (released === queue.length) queues.delete(client);
    else queue.splice(0, released);
  };

  let ingestSubscribed = false;
  let waitingConnects: { readonly client: Client; readonly admit: () => void }[] = [];
  instance.on("subscribe", (_subscriptions, client) => {
    if (ingestSubscribed || !client?.id || !isIngest(client.id)) return;
    ingestSubscribed = true;
    const waiting = waitingConnects;
    waitingConnects = [];
    for (const { admit } of waiting) admit();
  });
  const authenticate = instance.authenticate as unknown as AuthenticateFn;
  instance.authenticate = ((client: Client, username, password, done: AuthenticateDone) => {
    const admit = () => authenticate.call(instance, client, username, password, done);
    if (ingestSubscribed || isIngest(client.id ?? "")) return admit();
    // connections given up while waiting (a device's connectTimeout) make room
    waitingConnects = waitingConnects.filter((w) => !(w.client as unknown as ClientRuntime).closed);
    if (waitingConnects.length < MAX_WAITING_CONNECTS) {
      waitingConnects.push({ client, admit });
      return;
    }
    const refusal = new Error("the ingest has not subscribed yet: connect again") as Error & {
      returnCode: number;
    };
    refusal.returnCode = SERVER_UNAVAILABLE;
    done(refusal, false);
  }) as AuthenticateFn as unknown as typeof instance.authenticate;

  const authorizePublish = instance.authorizePublish as unknown as AuthorizePublishFn;
  instance.authorizePublish = ((client, packet, done) => {
    authorizePublish.call(instance, client, packet, (error) => {
      // client null: the broker's own publishes; a will has no messageId (nobody to acknowledge)
      if (error || client === null || packet.qos !== 1 || packet.messageId === undefined) return done(error);
      if (held >= maxPending)
        return done(new Error(`${held} readings already wait for their ingest; publish refused`));
      const entry: Held = {
        client,
        messageId: packet.messageId,
        since: Date.now(),
        waiting: new Set(),
        routed: false,
        brokerCounter: 0,
      };
      held++;
      const queue = queues.get(client);
      if (queue) queue.push(entry);
      else queues.set(client, [entry]);
      takenOver.set(packet, entry);
      // aedes' handler sees QoS 0: no PUBACK of its own; publish() restores the QoS
      packet.qos = 0;
      done(null);
    });
  }) as typeof instance.authorizePublish;

  const publish = instance.publish.bind(instance) as unknown as PublishFn;
  instance.publish = ((packet: PublishPacket, client: Client | null, done: (error?: Error) => void) => {
    const entry = takenOver.get(packet);
    if (!entry) return publish(packet, client, done);
    takenOver.delete(packet);
    packet.qos = 1;
    const tracked = packet as unknown as TrackedPacket;
    tracked.brokerId = runtime.id;
    tracked.brokerCounter = ++runtime.counter;
    entry.brokerCounter = tracked.brokerCounter;
    byCounter.set(entry.brokerCounter, entry);
    publish(packet, client, (error) => {
      if (error) {
        // not routed: the handler's error closes the connection, the device resends it
        dropConnection(entry.client);
        return done(error);
      }
      entry.routed = true;
      flush(entry.client);
      done();
    });
  }) as unknown as typeof instance.publish;

  const enqueue = runtime.persistence.outgoingEnqueueCombi.bind(runtime.persistence);
  runtime.persistence.outgoingEnqueueCombi = (subs, packet) => {
    const tracked = packet as TrackedPacket;
    const entry =
      tracked.brokerId === runtime.id && tracked.brokerCounter !== undefined
        ? byCounter.get(tracked.brokerCounter)
        : undefined;
    if (entry && !entry.routed)
      for (const sub of subs) if (isIngest(sub.clientId)) entry.waiting.add(sub.clientId);
    return enqueue(subs, packet);
  };

  instance.on("ack", (packet, client) => {
    // a clean session's acks carry no packet (aedes keeps no copy): only persistent ones count
    const acked = packet as TrackedPacket | undefined;
    if (!acked || !client?.id || acked.brokerId !== runtime.id || acked.brokerCounter === undefined) return;
    const entry = byCounter.get(acked.brokerCounter);
    if (!entry?.waiting.delete(client.id)) return;
    if (entry.waiting.size === 0) flush(entry.client);
  });
  instance.on("clientDisconnect", (client) => dropConnection(client));

  // one sweep, not a timer per reading: only each queue's oldest entry can be the first to expire
  const sweep = setInterval(
    () => {
      const now = Date.now();
      for (const [client, queue] of [...queues]) {
        const connection = client as unknown as ClientRuntime;
        if (connection.closed) dropConnection(client);
        else if (now - queue[0]!.since > timeoutMs) {
          dropConnection(client);
          // the device resends what it was not acknowledged when it reconnects
          connection.conn.destroy();
        }
      }
    },
    Math.max(10, Math.min(1000, Math.floor(timeoutMs / 4))),
  );
  (sweep as { unref?: () => void }).unref?.();

  return {
    pending: () => held,
    close: () => clearInterval(sweep),
  };
}

/** MQTT 3.1.1 PUBACK (also a valid v5 PUBACK: success, no properties) */
function pubackBytes(messageId: number): Uint8Array {
  return Uint8Array.of(0x40, 0x02, messageId >> 8, messageId & 0xff);
}
