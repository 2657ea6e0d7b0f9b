/**
 * Test worker: relays every record from an inbound shared ring to an outbound one, so a test
 * thread can run the transport contract across a real Worker. Back-pressure on the outbound
 * ring stops the relay from draining the inbound ring; nothing is dropped.
 */
import { openSabRingReader, openSabRingWriter } from "../../../supervisor/transport/sab-ring.ts";

declare const self: {
  onmessage:
    | ((event: MessageEvent<{ inbound: SharedArrayBuffer; outbound: SharedArrayBuffer }>) => void)
    | null;
  postMessage(message: unknown): void;
};

self.onmessage = (event) => {
  const reader = openSabRingReader(event.data.inbound);
  const writer = openSabRingWriter(event.data.outbound);
  const pending: Uint8Array[] = [];
  const relay = (bytes: Uint8Array, offset: number, length: number) => {
    if (pending.length > 0 || !writer.tryWrite(bytes.subarray(offset, offset + length))) {
      pending.push(bytes.slice(offset, offset + length));
    }
  };
  const loop = async () => {
    for (;;) {
      while (pending.length > 0) {
        if (writer.tryWrite(pending[0]!)) pending.shift();
        else {
          writer.flush();
          await writer.waitForSpace(50);
        }
      }
      const relayed = reader.drain(relay, 256);
      writer.flush(); // also publishes what the pending loop above wrote
      if (relayed === 0) await reader.waitForData(1000);
    }
  };
  loop().catch((error: unknown) => self.postMessage({ error: String(error) }));
  self.postMessage({ ready: true });
};
