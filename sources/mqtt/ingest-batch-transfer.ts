import type { RawMqttMessage } from "./mqtt-subscriber.ts";

/**
 * A batch of received MQTT messages as one ArrayBuffer, for the hop from the embedded broker's
 * thread to the main thread (aedes-thread-subscriber.ts). One buffer is transferred, not cloned,
 * and the main thread reads each payload as a view into it, without a copy.
 *
 * Bytes, little-endian, version 1:
 *   u32  count
 *   then per message:
 *     f64  receivedAt (ms since the epoch, the subscriber's clock on the broker's thread)
 *     u8   qos
 *     u16  topic length in bytes
 *     u32  payload length in bytes
 *     ...  topic (UTF-8), then payload
 */
const HEADER_BYTES = 4;
const MESSAGE_HEADER_BYTES = 8 + 1 + 2 + 4;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function packIngestBatch(batch: readonly RawMqttMessage[]): ArrayBuffer {
  const topics = batch.map((m) => encoder.encode(m.topic));
  let size = HEADER_BYTES;
  for (let i = 0; i < batch.length; i++)
    size += MESSAGE_HEADER_BYTES + topics[i]!.byteLength + batch[i]!.payload.byteLength;
  const buffer = new ArrayBuffer(size);
  const view = new DataView(buffer);
  const bytes = new Uint8Array(buffer);
  view.setUint32(0, batch.length, true);
  let at = HEADER_BYTES;
  for (let i = 0; i < batch.length; i++) {
    const message = batch[i]!;
    const topic = topics[i]!;
    view.setFloat64(at, message.receivedAt, true);
    view.setUint8(at + 8, message.qos);
    view.setUint16(at + 9, topic.byteLength, true);
    view.setUint32(at + 11, message.payload.byteLength, true);
    at += MESSAGE_HEADER_BYTES;
    bytes.set(topic, at);
    at += topic.byteLength;
    bytes.set(message.payload, at);
    at += message.payload.byteLength;
  }
  return buffer;
}

export function unpackIngestBatch(buffer: ArrayBuffer): RawMqttMessage[] {
  const view = new DataView(buffer);
  const count = view.getUint32(0, true);
  const messages: RawMqttMessage[] = new Array(count);
  let at = HEADER_BYTES;
  for (let i = 0; i < count; i++) {
    const receivedAt = view.getFloat64(at, true);
    const qos = view.getUint8(at + 8) as 0 | 1 | 2;
    const topicBytes = view.getUint16(at + 9, true);
    const payloadBytes = view.getUint32(at + 11, true);
    at += MESSAGE_HEADER_BYTES;
    const topic = decoder.decode(new Uint8Array(buffer, at, topicBytes));
    at += topicBytes;
    // a Buffer view, as mqtt.js hands payloads over: no copy, and toString() reads it as text
    const payload = Buffer.from(buffer, at, payloadBytes);
    at += payloadBytes;
    messages[i] = { topic, payload, qos, receivedAt };
  }
  return messages;
}
