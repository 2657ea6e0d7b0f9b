import { decodeActorState } from "../messages/codec/actor-state-record.ts";
import { decodeJsonEnvelope } from "../messages/codec/json-envelope-record.ts";
import { RecordTags, recordTagOf } from "../messages/codec/record-layout.ts";
import type { ShardOutput } from "../messages/shard-protocol.ts";

/** A shard host's output record: actor state in its binary layout, everything else JSON. */
export function decodeShardOutput(bytes: Uint8Array, offset: number, length: number): ShardOutput {
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
  return decodeJsonEnvelope(bytes, offset, length) as ShardOutput;
}
