import type { Log } from "../../log/log.ts";
import type { MarketBar, Timeframe } from "../../messages/market.ts";
import { DEFAULT_PARTITIONS, Topics } from "../../messages/topics.ts";
import type { MarketDataSource } from "./market-data-source.ts";

/**
 * Back-fill of historical bars from a source's history into `market.bars.<timeframe>`, one symbol
 * at a time, page by page, within the source's rate limit (the Alpaca adapter's client-side
 * limiter and its Retry-After-honouring retries).
 *
 * The records carry the time they were appended, not the bars' start (their event time is in the
 * value): a log keeps a topic by record time (Kafka's retention.ms, the embedded log alike), and
 * ten-year-old timestamps would be expired by the next retention run, before the lake sink or any
 * consumer read them, while the checkpoint says they were written.
 *
 * Resumable and idempotent: after each page is durable, the start of its last bar is written to
 * the compacted `market.backfill-checkpoints` topic under `<symbol>|<timeframe>`; a run starts
 * each symbol after its checkpoint, so an interrupted run goes on where it stopped and a second
 * run over the same range writes nothing.
 */
export const BACKFILL_CHECKPOINTS = "market.backfill-checkpoints";

export interface BackfillRequest {
  readonly symbols: readonly string[];
  readonly timeframe: Timeframe;
  readonly from: number;
  readonly to: number;
  readonly pageSize?: number;
  readonly signal?: AbortSignal;
}

export interface BackfillProgress {
  readonly symbol: string;
  /** symbols finished before this one */
  readonly symbolIndex: number;
  readonly symbols: number;
  /** how far this symbol got, 0..1 of its range */
  readonly fraction: number;
  readonly written: number;
}

export interface BackfillResult {
  readonly written: number;
  readonly pages: number;
  readonly bySymbol: Readonly<Record<string, number>>;
}

export interface BackfillDeps {
  readonly log: Log;
  readonly source: MarketDataSource;
  readonly encode: (topic: string, value: unknown) => Promise<Uint8Array> | Uint8Array;
  readonly onProgress?: (progress: BackfillProgress) => void;
  /** the records' append time; default Date.now */
  readonly now?: () => number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export async function readCheckpoints(log: Log): Promise<Map<string, number>> {
  const checkpoints = new Map<string, number>();
  const partitions = (await log.partitions(BACKFILL_CHECKPOINTS)) ?? 0;
  for (let partition = 0; partition < partitions; partition++) {
    let offset = 0;
    for (;;) {
      const records = await log.read(
        { topic: BACKFILL_CHECKPOINTS, partition },
        { fromOffset: offset, maxRecords: 5000 },
      );
      if (records.length === 0) break;
      for (const r of records) {
        const value = r.value === null ? Number.NaN : Number(decoder.decode(r.value));
        if (r.key !== null && Number.isFinite(value)) checkpoints.set(r.key, value);
      }
      offset = records.at(-1)!.offset + 1;
    }
  }
  return checkpoints;
}

export async function backfill(deps: BackfillDeps, request: BackfillRequest): Promise<BackfillResult> {
  const { log, source } = deps;
  const topic = Topics.marketBars(request.timeframe);
  await log.createTopic({ name: BACKFILL_CHECKPOINTS, partitions: 1, compacted: true });
  // a node provisions the bars topics with the input's partitions; on its own, the default
  if ((await log.partitions(topic)) === undefined)
    await log.createTopic({ name: topic, partitions: DEFAULT_PARTITIONS });
  const checkpoints = await readCheckpoints(log);
  const bySymbol: Record<string, number> = {};
  let written = 0;
  let pages = 0;
  for (const [index, symbol] of request.symbols.entries()) {
    const key = `${symbol}|${request.timeframe}`;
    const done = checkpoints.get(key);
    const from = done === undefined ? request.from : Math.max(request.from, done + 1);
    bySymbol[symbol] = 0;
    const report = (at: number) =>
      deps.onProgress?.({
        symbol,
        symbolIndex: index,
        symbols: request.symbols.length,
        fraction:
          request.to > request.from
            ? Math.min(1, Math.max(0, (at - request.from) / (request.to - request.from)))
            : 1,
        written,
      });
    report(from);
    if (from >= request.to) continue;
    const history = source.history({
      symbols: [symbol],
      timeframe: request.timeframe,
      from,
      to: request.to,
      ...(request.pageSize ? { pageSize: request.pageSize } : {}),
      ...(request.signal ? { signal: request.signal } : {}),
    });
    for await (const page of history) {
      const bars = page.filter((bar) => bar.symbol === symbol && bar.start >= from);
      if (bars.length === 0) continue;
      const appendedAt = (deps.now ?? Date.now)();
      const records = await Promise.all(
        bars.map(async (bar) => {
          const value: MarketBar = { ...bar, source: `backfill:${source.name}` };
          return { topic, key: symbol, value: await deps.encode(topic, value), timestamp: appendedAt };
        }),
      );
      const last = bars.at(-1)!.start;
      // the page, then its checkpoint: a crash between them re-writes one page, never skips one
      await log.append(records);
      await log.append([{ topic: BACKFILL_CHECKPOINTS, key, value: encoder.encode(String(last)) }]);
      pages++;
      written += bars.length;
      bySymbol[symbol] += bars.length;
      report(last);
    }
  }
  return { written, pages, bySymbol };
}
