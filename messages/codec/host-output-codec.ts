import type { HostOutput } from "../host-protocol.ts";
import { decodeActorState } from "./actor-state-record.ts";
import { decodeJsonEnvelope } from "./json-envelope-record.ts";
import { RecordTags, recordTagOf } from "./record-layout.ts";

/** A partition host's output record: actor state in its binary layout, everything else JSON. */
export function decodeHostOutput(bytes: Uint8Array, offset: number, length: number): HostOutput {
  if (recordTagOf(bytes, offset, length) === RecordTags.actorState) {
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
