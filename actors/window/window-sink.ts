import type { LateRecord } from "../../messages/host-protocol.ts";
import type { WindowResult } from "../../messages/window-result.ts";

/** Where a sensor type's windows send what they produce: window results and late readings. */
export interface WindowSink {
  window(result: WindowResult, ingestedAt: number): void;
  late(record: LateRecord): void;
}
