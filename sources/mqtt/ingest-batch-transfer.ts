import type { RawMqttMessage } from "./mqtt-subscriber.ts";

/**
 * A batch of received MQTT messages as one ArrayBuffer, for the hop from the embedded broker's
 * thread to the main thread (aedes-thread-subscriber.ts). One buffer is transferred, not cloned,
 * and the main thread reads each payload as a view into it, without a copy.
 *
 * Topics repeat (one per sensor), so each side keeps a table: the packer numbers a topic the
 * first time it packs it and sends its text once, beside the buffer (`newTopics`, in id order);
 * after that a message carries the number. Past `maxTopics` a topic travels inline. Both sides
 * start empty with each subscriber start, and the unpacker must see every packed batch, in
 * order (postMessage keeps the order); a batch packed again (a retry) defines nothing new.
 *
 * Bytes, little-endian, version 1:
 *   u32  count
 *   then per message:
 *     f64  receivedAt (ms since the epoch, the subscriber's clock on the broker's thread)
 *     u8   qos
 *     u32  topic id, or INLINE
 *     u32  payload length in bytes
 *     [u16 topic length in bytes, topic (UTF-8)]   only when INLINE
 *     ...  payload
 */
export interface PackedIngestBatch {
  readonly buffer: ArrayBuffer;
  /** topics numbered by this batch, in id order */
  readonly newTopics: readonly string[];
}

const HEADER_BYTES = 4;
const MESSAGE_HEADER_BYTES = 8 + 1 + 4 + 4;
const INLINE = 0xffff_ffff;
/** a node's sensors' topics; past this many (a flood of new ids) topics travel inline */
export const DEFAULT_MAX_TOPICS = 1 << 20;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function createIngestBatchPacker(maxTopics = DEFAULT_MAX_TOPICS): {
  pack(batch: readonly RawMqttMessage[]): PackedIngestBatch;
} {
  const ids = new Map<string, number>();
  return {
    pack(batch) {
      const newTopics: string[] = [];
      const topicIds = new Array<number>(batch.length);
      const inline: (Uint8Array | undefined)[] = new Array(batch.length);
      let size = HEADER_BYTES;
      for (let i = 0; i < batch.length; i++) {
        const message = batch[i]!;
        let id = ids.get(message.topic);
        if (id === undefined && ids.size < maxTopics) {
          id = ids.size;
          ids.set(message.topic, id);
          newTopics.push(message.topic);
        }
        size += MESSAGE_HEADER_BYTES + message.payload.byteLength;
        if (id === undefined) {
          const topic = encoder.encode(message.topic);
          inline[i] = topic;
          size += 2 + topic.byteLength;
        }
        topicIds[i] = id ?? INLINE;
      }
      const buffer = new ArrayBuffer(size);
      const view = new DataView(buffer);
      const bytes = new Uint8Array(buffer);
      view.setUint32(0, batch.length, true);
      let at = HEADER_BYTES;
      for (let i = 0; i < batch.length; i++) {
        const message = batch[i]!;
        view.setFloat64(at, message.receivedAt, true);
        view.setUint8(at + 8, message.qos);
        view.setUint32(at + 9, topicIds[i]!, true);
        view.setUint32(at + 13, message.payload.byteLength, true);
        at += MESSAGE_HEADER_BYTES;
        const topic = inline[i];
        if (topic) {
          view.setUint16(at, topic.byteLength, true);
          bytes.set(topic, at + 2);
          at += 2 + topic.byteLength;
        }
        bytes.set(message.payload, at);
        at += message.payload.byteLength;
      }
      return { buffer, newTopics };
    },
  };
}

export function createIngestBatchUnpacker(): {
  unpack(packed: PackedIngestBatch): RawMqttMessage[];
} {
  const topics: string[] = [];
  return {
    unpack({ buffer, newTopics }) {
      for (const topic of newTopics) topics.push(topic);
      const view = new DataView(buffer);
      const count = view.getUint32(0, true);
      const messages: RawMqttMessage[] = new Array(count);
      let at = HEADER_BYTES;
      for (let i = 0; i < count; i++) {
        const receivedAt = view.getFloat64(at, true);
        const qos = view.getUint8(at + 8) as 0 | 1 | 2;
        const id = view.getUint32(at + 9, true);
        const payloadBytes = view.getUint32(at + 13, true);
        at += MESSAGE_HEADER_BYTES;
        let topic: string;
        if (id === INLINE) {
          const topicBytes = view.getUint16(at, true);
          topic = decoder.decode(new Uint8Array(buffer, at + 2, topicBytes));
          at += 2 + topicBytes;
        } else {
          const known = topics[id];
          // a table out of step would hand readings the wrong sensor's topic: refuse loudly
          if (known === undefined)
            throw new RangeError(`ingest batch names topic ${id}, of ${topics.length} known`);
          topic = known;
        }
        // a Buffer view, as mqtt.js hands payloads over: no copy, and toString() reads it as text
        const payload = Buffer.from(buffer, at, payloadBytes);
        at += payloadBytes;
        messages[i] = { topic, payload, qos, receivedAt };
      }
      return messages;
    },
  };
}
