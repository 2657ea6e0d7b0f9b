import type { HostInbound } from "../host-protocol.ts";
import { decodeActorState, writeActorState } from "./actor-state-record.ts";
import { decodeJsonEnvelope, writeJsonEnvelope } from "./json-envelope-record.ts";
import { type RecordSink, RecordTags, recordTagOf } from "./record-layout.ts";

/**
 * What the main thread writes into a partition host's inbound ring besides readings: a state
 * restore as an actor-state record (the changelog's bytes, copied, never parsed on the main
 * thread: the worker that owns the key decodes them once, when the actor starts), everything
 * else as a JSON envelope.
 */
export function writeHostInbound(sink: RecordSink, message: HostInbound): boolean {
  if (message.type === "restore")
    return writeActorState(sink, message.kind, message.key, message.partition, message.state);
  return writeJsonEnvelope(sink, message);
}

export function decodeHostInbound(bytes: Uint8Array, offset: number, length: number): HostInbound {
  if (recordTagOf(bytes, offset, length) === RecordTags.actorState) {
    const record = decodeActorState(bytes, offset, length);
    return {
      type: "restore",
      kind: record.kind,
      key: record.key,
      partition: record.partition,
      state: record.state,
    };
  }
  return decodeJsonEnvelope(bytes, offset, length) as HostInbound;
}
