import type { Log, ProducerRecord } from "../../log/log.ts";
import type { WindowResult } from "../../messages/window-result.ts";
import { windowKey, windowResultBound, writeWindowResult } from "./window-result.ts";

/**
 * Our side's output router (what sinks/output-router.ts is to a node): the window updates the
 * partition hosts send back collect until a batch mark arrives, then go to the output topic in
 * one append, each window's latest only; the mark is passed on (to the dispatcher, which commits
 * by it) only after that append is durable and, as the node's router does, after the actor
 * state saved so far is flushed to the changelogs. Appends run one after another: a stale
 * window update must never land after a newer one of the same window.
 */
export interface WindowUpdateSinkDeps {
  readonly log: Log;
  readonly topic: string;
  /** the changelog state buffered so far made durable (the node's actor-state stores) */
  readonly flushState: () => Promise<void>;
  readonly onMark: (worker: number, batch: number) => void;
  /** an append or a state flush failed: its marks are never passed on, nothing is committed */
  readonly onError: (error: unknown) => void;
}

export class WindowUpdateSink {
  private latest = new BatchOutputs();
  private readonly marks: { worker: number; batch: number }[] = [];
  /** the append in flight, if any; what comes meanwhile goes in the next one */
  private appending: Promise<void> | undefined;
  /** the append that follows the one in flight */
  private queued: Promise<void> | undefined;
  /** records appended to the output topic so far */
  appended = 0;
  /** appends made (each one produce of everything pending) */
  appends = 0;

  constructor(private readonly deps: WindowUpdateSinkDeps) {}

  window(result: WindowResult): void {
    this.latest.add(result);
  }

  mark(worker: number, batch: number): void {
    this.marks.push({ worker, batch });
    this.flush().catch(this.deps.onError);
  }

  /**
   * Append what is pending, then release the marks that were waiting behind it. One append at a
   * time, and the marks and outputs that arrive while it runs go together in the next (a group
   * commit): a mark per poll batch and per worker made an append each, hundreds of small
   * produce requests a second, one after another. Resolves once everything pending at the call
   * is durable and its marks passed on.
   */
  flush(): Promise<void> {
    if (this.appending === undefined) {
      this.appending = this.appendPending();
      return this.appending;
    }
    // the next append starts when this one ends, with everything pending by then
    if (this.queued === undefined) {
      const next = () => {
        this.queued = undefined;
        return this.flush();
      };
      this.queued = this.appending.then(next, next);
    }
    return this.queued;
  }

  private async appendPending(): Promise<void> {
    const records = toProducerRecords(this.deps.topic, this.latest);
    this.latest = new BatchOutputs();
    const marks = this.marks.splice(0);
    try {
      if (records.length > 0) {
        await this.deps.log.append(records);
        this.appended += records.length;
        this.appends++;
      }
      // state before marks: a mark lets the dispatcher commit, and a commit must not run ahead
      // of the state it implies
      if (marks.length > 0) await this.deps.flushState();
    } finally {
      this.appending = undefined;
    }
    // a failed append passes none of its marks on: nothing is committed past it
    for (const mark of marks) this.deps.onMark(mark.worker, mark.batch);
  }
}

/**
 * The window outputs of one append, each window's latest: a later output of a window takes
 * the place of the one before (an update that the batch's watermark then closed gives way to the
 * final result). Found through the earlier outputs in the batch whose sensor ids hash alike, a
 * chain by index: a map by "sensor@start" built that text and hashed it for every output, and a
 * map by the sensor id string compared each probe with a key string out of cache (100k sensors:
 * ~0.5-1.2 us a lookup against ~0.15 us for a number key, bench/RESULTS.md, helper P).
 */
export class BatchOutputs {
  /** in the order they came; undefined where a later output of the same window took over */
  results: (WindowResult | undefined)[] = [];
  /** per output: the index of the output before it whose sensor id hashes alike, -1 for none */
  private previous: number[] = [];
  private lastOfHash = new Map<number, number>();

  add(result: WindowResult): void {
    const hash = sensorIdHash(result.key);
    const before = this.lastOfHash.get(hash) ?? -1;
    for (let i = before; i >= 0; i = this.previous[i]!) {
      const earlier = this.results[i];
      // alike hashes may be other sensors: the id itself decides
      if (earlier?.window_start === result.window_start && earlier.key === result.key) {
        this.results[i] = undefined; // at most one live output per window: the one before it
        break;
      }
    }
    this.lastOfHash.set(hash, this.results.length);
    this.results.push(result);
    this.previous.push(before);
  }

  clear(): void {
    this.results = [];
    this.previous = [];
    this.lastOfHash.clear();
  }
}

/** FNV-1a of a sensor id's UTF-16 code units, 32 bits: a number key, compared without the string */
function sensorIdHash(id: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) hash = Math.imul(hash ^ id.charCodeAt(i), 0x01000193);
  return hash;
}

/**
 * One Buffer for the batch's values, each record a view of its part: each value is written
 * once, as bytes, where the producer takes it (window-result.ts's `writeWindowResult`), into a
 * Buffer sized by each value's bound instead of measuring the values first.
 */
export function toProducerRecords(topic: string, outputs: BatchOutputs): ProducerRecord[] {
  let bound = 0;
  for (const result of outputs.results) if (result !== undefined) bound += windowResultBound(result.key);
  if (bound === 0) return [];
  const pool = Buffer.allocUnsafe(bound);
  const records: ProducerRecord[] = [];
  let at = 0;
  for (const result of outputs.results) {
    if (result === undefined) continue;
    const end = writeWindowResult(
      pool,
      at,
      result.key,
      result.window_start,
      result.window_end,
      result.count,
      result.fields.vehicle_count!,
      result.fields.avg_speed!,
    );
    records.push({ topic, key: windowKey(result.key, result.window_start), value: pool.subarray(at, end) });
    at = end;
  }
  return records;
}
