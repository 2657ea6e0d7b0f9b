import type { HostOutput } from "../host-protocol.ts";
import { decodeActorState } from "./actor-state-record.ts";
import { decodeJsonEnvelope } from "./json-envelope-record.ts";
import { RecordTags, recordTagOf } from "./record-layout.ts";
import { decodeWindowOutput } from "./window-output-record.ts";

/**
 * A partition host's output record: actor state and window outputs (one a reading) in their
 * binary layouts, everything else JSON.
 */
export function decodeHostOutput(bytes: Uint8Array, offset: number, length: number): HostOutput {
  const tag = recordTagOf(bytes, offset, length);
  if (tag === RecordTags.windowOutput) return decodeWindowOutput(bytes, offset, length);
  if (tag === RecordTags.actorState) {
    const record = decodeActorState(bytes, offset, length);
    return {
      type: "state",
      kind: record.kind,
      key: record.key,
      partition: record.partition,
      state: record.state,
    };
  }
  return decodeJsonEnvelope(bytes, offset, length) as HostOutput;
}
