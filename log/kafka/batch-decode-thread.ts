/**
 * The Bun worker behind `batch-decode-offload.ts`: the batch stage of a fetch's decode (framing,
 * CRC-32C over every byte, read_committed filtering, decompression; record-batch-decoder.ts's
 * `readBatches`) for the partitions of one Fetch response, off the consumer's thread.
 *
 * Protocol: the host posts {id, sources, limits}, each source's `bytes` an ArrayBuffer of its
 * own, transferred; the thread answers {id, results} in the same order, each batch's `body` an
 * ArrayBuffer of its own, transferred back (no copy either way), or {id, failure} with a message
 * when something other than a corrupt batch went wrong. A corrupt batch is data, not a failure:
 * it comes back as {offset, reason} for the host to make its LOG_BATCH_CORRUPT error.
 */
import { ErrorCodes } from "../../messages/errors.ts";
import {
  type BatchBody,
  type BatchSource,
  type DecodeLimits,
  type ReadBatches,
  readBatches,
} from "./record-batch-decoder.ts";

export interface DecodeRequest {
  readonly id: number;
  readonly sources: readonly BatchSource[];
  readonly limits: DecodeLimits;
}

/** a batch stage's result as it crosses the thread: the corrupt batch's error as its parts */
export interface CrossedBatches {
  readonly batches: BatchBody[];
  readonly nextOffset: number | undefined;
  readonly corrupt?: { readonly offset: number; readonly message: string; readonly details: unknown };
}

export type DecodeReply =
  | { readonly id: number; readonly results: CrossedBatches[] }
  | { readonly id: number; readonly failure: string };

const scope = globalThis as unknown as {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  addEventListener(type: "message", listener: (event: MessageEvent<DecodeRequest>) => void): void;
};

const CODE_PREFIX = `${ErrorCodes.LOG_BATCH_CORRUPT}: `;

/**
 * a body that is all of its ArrayBuffer can be transferred; a view of a shared one (a pooled
 * Buffer) is copied (by the constructor: a Buffer's slice() is a view)
 */
function owned(body: Uint8Array): Uint8Array {
  return body.byteOffset === 0 && body.byteLength === body.buffer.byteLength ? body : new Uint8Array(body);
}

function crossed(read: ReadBatches, transfer: Transferable[]): CrossedBatches {
  const batches = read.batches.map((batch) => {
    const body = owned(batch.body);
    transfer.push(body.buffer as ArrayBuffer);
    return { ...batch, body };
  });
  if (read.corrupt === undefined) return { batches, nextOffset: read.nextOffset };
  const { message, details } = read.corrupt.error;
  return {
    batches,
    nextOffset: read.nextOffset,
    corrupt: {
      offset: read.corrupt.offset,
      message: message.startsWith(CODE_PREFIX) ? message.slice(CODE_PREFIX.length) : message,
      details,
    },
  };
}

scope.addEventListener("message", (event) => {
  const { id, sources, limits } = event.data;
  const transfer: Transferable[] = [];
  let reply: DecodeReply;
  try {
    reply = { id, results: sources.map((source) => crossed(readBatches(source, limits), transfer)) };
  } catch (error) {
    // no stack across the thread: the host names the failure with its own code
    reply = { id, failure: error instanceof Error ? error.message : String(error) };
    transfer.length = 0;
  }
  scope.postMessage(reply, transfer);
});
