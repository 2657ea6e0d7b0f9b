/**
 * Watches an MQTT byte stream for packets larger than a limit, from their fixed headers alone
 * (MQTT 3.1.1 / 5.0 section 2.2: one type byte, then the Remaining Length as a variable byte
 * integer of 1-4 bytes, 7 bits each, least significant first). The limit counts the whole packet,
 * header included, as MQTT 5's Maximum Packet Size and Mosquitto's max_packet_size do.
 *
 * aedes (and mqtt-packet's parser under it) has no packet size limit: it buffers a packet until
 * it is complete, so one 200 MB publish costs hundreds of MB before anything can refuse it. The
 * guard sees the announced length in the first bytes and the connection is closed right there.
 */
export type PacketSizeGuard = (chunk: Uint8Array) => number | undefined;

/** returns a function fed with every chunk in order; it answers the size of the first packet over the limit */
export function createPacketSizeGuard(maxPacketBytes: number): PacketSizeGuard {
  let bodyLeft = 0;
  let inLength = false;
  let length = 0;
  let multiplier = 1;
  let lengthBytes = 0;
  return (chunk) => {
    let i = 0;
    while (i < chunk.length) {
      if (bodyLeft > 0) {
        const n = Math.min(bodyLeft, chunk.length - i);
        bodyLeft -= n;
        i += n;
        continue;
      }
      if (!inLength) {
        // the type byte of the next packet
        inLength = true;
        length = 0;
        multiplier = 1;
        lengthBytes = 0;
        i++;
        continue;
      }
      const byte = chunk[i++]!;
      length += (byte & 0x7f) * multiplier;
      multiplier *= 128;
      lengthBytes++;
      if (byte & 0x80) {
        // a fifth length byte is malformed: treat it as too large
        if (lengthBytes === 4) return Number.POSITIVE_INFINITY;
        continue;
      }
      inLength = false;
      const packetBytes = 1 + lengthBytes + length;
      if (packetBytes > maxPacketBytes) return packetBytes;
      bodyLeft = length;
    }
    return undefined;
  };
}

/**
 * The platform's limit: twice the largest reading the ingest parser accepts (64 KiB), so a
 * reading that is merely too large still reaches the parser and becomes a dead letter with its
 * reason, and anything larger is refused at the broker before it costs memory.
 */
export const MAX_MQTT_PACKET_BYTES = 128 * 1024;
