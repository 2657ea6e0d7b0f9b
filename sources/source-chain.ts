import { ErrorCodes, isPlatformError, PlatformError } from "../messages/errors.ts";

/**
 * Sources of one kind of data tried in order of preference (NEWS_SOURCES=newsapi,gdelt,replay,
 * MARKET_SOURCES=alpaca,replay,simulator): a call goes to the first source that is not resting;
 * a source that fails rests and the call hands over to the next; when its rest is over the
 * preferred source is tried first again, so the chain fails back by itself.
 *
 * How long a failed source rests, by the port's error codes:
 *   RATE_LIMITED         until its Retry-After (details.retryAfterMs), at least 1 s
 *   SOURCE_UNAUTHORIZED  `unauthorizedRestMs` (default 1 h): a missing or refused key
 *   anything else        exponential back-off from 1 s, doubling per failure, at most 5 min
 * Every hand-over and fail-back is reported (`onChange`) for logs, /metrics and /health.
 */
export interface ChainSource {
  readonly name: string;
}

export type SourceState = "active" | "standby" | "resting";

export interface SourceHealth {
  readonly name: string;
  readonly state: SourceState;
  readonly reason: string | undefined;
  readonly restingUntil: number | undefined;
  readonly successes: number;
  readonly failures: number;
}

export interface SourceChainOptions {
  readonly now?: () => number;
  readonly unauthorizedRestMs?: number;
  readonly maxBackoffMs?: number;
  /** the source now answering changed (hand-over or fail-back), or a source failed */
  readonly onChange?: (event: SourceChainEvent) => void;
}

export type SourceChainEvent =
  | { readonly type: "failed"; readonly source: string; readonly reason: string; readonly restMs: number }
  | { readonly type: "switched"; readonly from: string | undefined; readonly to: string };

interface Slot<S extends ChainSource> {
  readonly source: S;
  restingUntil: number;
  consecutiveFailures: number;
  reason: string | undefined;
  successes: number;
  failures: number;
}

export class SourceChain<S extends ChainSource> {
  readonly #slots: Slot<S>[];
  readonly #now: () => number;
  readonly #options: SourceChainOptions;
  #active: string | undefined;

  constructor(sources: readonly S[], options: SourceChainOptions = {}) {
    if (sources.length === 0)
      throw new PlatformError(ErrorCodes.CONFIG_INVALID, "a source chain needs a source");
    this.#slots = sources.map((source) => ({
      source,
      restingUntil: 0,
      consecutiveFailures: 0,
      reason: undefined,
      successes: 0,
      failures: 0,
    }));
    this.#now = options.now ?? Date.now;
    this.#options = options;
  }

  /** the name of the source that answered last */
  get active(): string | undefined {
    return this.#active;
  }

  /**
   * Run `call` against the first source that is not resting; on failure rest it and try the
   * next. Throws SOURCE_UNAVAILABLE naming every source's reason when none answered.
   */
  async call<T>(call: (source: S) => Promise<T>): Promise<{ value: T; source: string }> {
    const reasons: string[] = [];
    for (const slot of this.#slots) {
      const now = this.#now();
      if (slot.restingUntil > now) {
        reasons.push(`${slot.source.name}: resting (${slot.reason ?? "failed"})`);
        continue;
      }
      try {
        const value = await call(slot.source);
        this.#succeeded(slot);
        return { value, source: slot.source.name };
      } catch (error) {
        reasons.push(`${slot.source.name}: ${this.#failed(slot, error)}`);
      }
    }
    throw new PlatformError(ErrorCodes.SOURCE_UNAVAILABLE, `no source answered (${reasons.join("; ")})`);
  }

  health(): SourceHealth[] {
    const now = this.#now();
    return this.#slots.map((slot) => ({
      name: slot.source.name,
      state: slot.restingUntil > now ? "resting" : slot.source.name === this.#active ? "active" : "standby",
      reason: slot.reason,
      restingUntil: slot.restingUntil > now ? slot.restingUntil : undefined,
      successes: slot.successes,
      failures: slot.failures,
    }));
  }

  #succeeded(slot: Slot<S>): void {
    slot.successes++;
    slot.consecutiveFailures = 0;
    slot.reason = undefined;
    if (this.#active !== slot.source.name) {
      const from = this.#active;
      this.#active = slot.source.name;
      this.#options.onChange?.({ type: "switched", from, to: slot.source.name });
    }
  }

  #failed(slot: Slot<S>, error: unknown): string {
    slot.failures++;
    slot.consecutiveFailures++;
    const reason = isPlatformError(error)
      ? error.message
      : `unexpected failure: ${String(error).slice(0, 200)}`;
    const restMs = this.#restOf(slot, error);
    slot.reason = reason;
    slot.restingUntil = this.#now() + restMs;
    this.#options.onChange?.({ type: "failed", source: slot.source.name, reason, restMs });
    return reason;
  }

  #restOf(slot: Slot<S>, error: unknown): number {
    if (isPlatformError(error, ErrorCodes.RATE_LIMITED)) {
      const retryAfter = Number(error.details?.retryAfterMs);
      return Math.max(1_000, Number.isFinite(retryAfter) ? retryAfter : 60_000);
    }
    if (isPlatformError(error, ErrorCodes.SOURCE_UNAUTHORIZED))
      return this.#options.unauthorizedRestMs ?? 3_600_000;
    const maxBackoffMs = this.#options.maxBackoffMs ?? 300_000;
    return Math.min(maxBackoffMs, 1_000 * 2 ** Math.min(20, slot.consecutiveFailures - 1));
  }
}
