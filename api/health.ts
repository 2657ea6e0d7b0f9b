/**
 * The checks behind `/health`. Each check says what its name says, from signals the node
 * already has: the MQTT subscriber's counters, the worker systems answering their stats (a
 * heartbeat), the log answering a probe. A check is judged at a time `now` and gives a verdict
 * with a reason when it fails, so an operator reads why the node is not ready.
 *
 * Counters are sampled (on the node's housekeeping tick and at every /health request): a
 * `ProgressWatch` remembers when a counter last moved, so "received within the expected
 * interval" needs no hook inside the subscriber.
 */
export interface HealthVerdict {
  readonly ok: boolean;
  readonly reason?: string;
}

export interface HealthCheck {
  readonly name: string;
  check(now: number): HealthVerdict;
}

const OK: HealthVerdict = { ok: true };
const failed = (reason: string): HealthVerdict => ({ ok: false, reason });

/** When a monotonically increasing counter was last seen to move (from its first sample on). */
export class ProgressWatch {
  private last: number | undefined;
  private movedAt: number;

  constructor(
    private readonly read: () => number,
    startedAt: number,
  ) {
    this.movedAt = startedAt;
  }

  /** samples the counter; returns when it last moved */
  sample(now: number): number {
    const value = this.read();
    if (this.last !== undefined && value !== this.last) this.movedAt = now;
    this.last = value;
    return this.movedAt;
  }
}

/**
 * A counter's recent history, to tell how much it grew within a window: samples older than
 * `spanMs` are dropped, and at most `maxSamples` are kept (the node samples every 2 s).
 */
export class CounterHistory {
  private readonly samples: { at: number; value: number }[] = [];

  constructor(
    private readonly read: () => number,
    private readonly spanMs: number,
    private readonly maxSamples = 256,
  ) {}

  sample(now: number): void {
    const last = this.samples.at(-1);
    if (last && last.at === now) last.value = this.read();
    else this.samples.push({ at: now, value: this.read() });
    while (this.samples.length > this.maxSamples || (this.samples[0]?.at ?? now) < now - this.spanMs)
      this.samples.shift();
  }

  /** per second over at least `windowMs` (from the last sample before it); undefined until the history spans it */
  ratePerSecond(now: number, windowMs: number): number | undefined {
    const base = this.baseFor(now, windowMs);
    const last = this.samples.at(-1);
    if (!base || !last || base.at > now - windowMs || last.at <= base.at) return undefined;
    return ((last.value - base.value) * 1000) / (last.at - base.at);
  }

  /** growth within about `windowMs` (from the last sample before it, or the first one kept) */
  recentGrowth(now: number, windowMs: number): number {
    const base = this.baseFor(now, windowMs);
    const last = this.samples.at(-1);
    return base && last ? last.value - base.value : 0;
  }

  private baseFor(now: number, windowMs: number): { at: number; value: number } | undefined {
    let base = this.samples[0];
    for (const s of this.samples) if (s.at <= now - windowMs) base = s;
    return base;
  }
}

export interface MqttHealthSource {
  /** messages received from the broker so far */
  received(): number;
  /** reconnect attempts so far (mqtt.js makes one every reconnect period while disconnected) */
  reconnects(): number;
  /** the subscriber's connection is up now (when the subscriber can tell) */
  connected?(): boolean;
  /** connections of the ingest that closed under it (broker restart, client id taken over) */
  disconnects?(): number;
}

export interface MqttHealthOptions {
  /** traffic is expected (the simulator runs, or sensors are known to publish) */
  readonly expectTraffic: boolean;
  /** no message for this long while traffic is expected fails the check */
  readonly maxSilenceMs: number;
  /** a reconnect attempt seen within this long means the subscriber is not connected */
  readonly reconnectQuietMs: number;
  readonly startedAt: number;
  /** this many disconnects within `disconnectWindowMs` fail the check; default 3 in 60 s */
  readonly maxDisconnects?: number;
  readonly disconnectWindowMs?: number;
  /**
   * the ingest rate known to be published (the simulator's); a rate over `rateWindowMs` (10 s)
   * below `minRateFraction` (a quarter) of it fails the check
   */
  readonly expectedRatePerSecond?: number;
  readonly rateWindowMs?: number;
  readonly minRateFraction?: number;
}

/**
 * mqtt: the subscriber is connected (not reconnecting), its connection is not dropped again and
 * again, and, when traffic is expected, it receives, at the rate expected when one is known.
 * A connection that keeps dropping while messages still trickle in is the mark of another client
 * taking the ingest's client id over and over (the broker closes the older of two clients with
 * one id): before this rule /health stayed green while ingest fell from 201/s to 36/s.
 */
export function mqttHealth(source: MqttHealthSource, options: MqttHealthOptions): HealthCheck & Sampled {
  const received = new ProgressWatch(source.received, options.startedAt);
  const reconnects = new ProgressWatch(source.reconnects, Number.NEGATIVE_INFINITY);
  const disconnectWindowMs = options.disconnectWindowMs ?? 60_000;
  const maxDisconnects = options.maxDisconnects ?? 3;
  const rateWindowMs = options.rateWindowMs ?? 10_000;
  const minRateFraction = options.minRateFraction ?? 0.25;
  // reconnect attempts are no measure of drops: mqtt.js makes one a second while the broker is down
  const drops = source.disconnects
    ? new CounterHistory(source.disconnects, disconnectWindowMs + 5_000)
    : undefined;
  // a little more than the window, so a sample from just before it is still there
  const volume = new CounterHistory(source.received, rateWindowMs + 5_000);
  return {
    name: "mqtt",
    sample(now) {
      received.sample(now);
      reconnects.sample(now);
      drops?.sample(now);
      volume.sample(now);
    },
    check(now) {
      const lastReceived = received.sample(now);
      const lastReconnect = reconnects.sample(now);
      drops?.sample(now);
      volume.sample(now);
      if (source.connected && !source.connected())
        return failed("the MQTT subscriber is not connected to the broker");
      const dropped = drops?.recentGrowth(now, disconnectWindowMs) ?? 0;
      if (dropped >= maxDisconnects)
        return failed(
          `degraded: the MQTT ingest connection dropped ${dropped} times in ${Math.round(disconnectWindowMs / 1000)} s (another client using the ingest's client id, or an unstable broker)`,
        );
      const expected = options.expectedRatePerSecond;
      const rate = volume.ratePerSecond(now, rateWindowMs);
      if (expected !== undefined && expected > 0 && rate !== undefined) {
        if (rate < expected * minRateFraction)
          return failed(
            `degraded: MQTT ingest at ${rate.toFixed(1)} messages/s over ${Math.round(rateWindowMs / 1000)} s, expected about ${expected}/s`,
          );
      }
      if (now - lastReconnect < options.reconnectQuietMs && lastReconnect >= lastReceived)
        return failed("the MQTT subscriber is reconnecting to the broker");
      if (options.expectTraffic && now - lastReceived > options.maxSilenceMs)
        return failed(
          `no MQTT message for ${Math.round((now - lastReceived) / 1000)} s (expected within ${options.maxSilenceMs} ms)`,
        );
      return OK;
    },
  };
}

export interface Sampled {
  sample(now: number): void;
}

export interface ActorsHealthSource {
  /** a failure that stopped the node's processing, if any (its code only is shown) */
  fatal(): { readonly code?: string } | undefined;
  /** when every actor system (main thread and each worker) last answered its stats */
  lastHeartbeatAt(): number;
}

/** actors: no fatal failure, and every actor system answered within `maxSilenceMs`. */
export function actorsHealth(source: ActorsHealthSource, options: { maxSilenceMs: number }): HealthCheck {
  return {
    name: "actors",
    check(now) {
      const fatal = source.fatal();
      if (fatal) return failed(`the node's processing failed${fatal.code ? ` (${fatal.code})` : ""}`);
      const silence = now - source.lastHeartbeatAt();
      if (silence > options.maxSilenceMs)
        return failed(`the actor systems have not answered for ${Math.round(silence / 1000)} s`);
      return OK;
    },
  };
}

/** log: the log answered a request (probe, append or poll) within `maxSilenceMs`. */
export function logHealth(lastAnsweredAt: () => number, options: { maxSilenceMs: number }): HealthCheck {
  return {
    name: "log",
    check(now) {
      const silence = now - lastAnsweredAt();
      if (silence > options.maxSilenceMs)
        return failed(`the log has not answered for ${Math.round(silence / 1000)} s`);
      return OK;
    },
  };
}

/** what the log's background WAL checkpoints report (log/embedded/wal-checkpointer.ts) */
export interface WalCheckpointHealthSource {
  readonly failing: boolean;
  readonly failures: number;
  readonly lastFailure:
    | { readonly code: string; readonly details?: Readonly<Record<string, unknown>> }
    | undefined;
}

/**
 * wal_checkpoints: the embedded log's checkpoint thread copies the WAL back into the database.
 * While its passes fail the node still works (the writer's own checkpoints keep the WAL
 * bounded, at the main thread's expense), so the verdict says degraded, with the failure's code
 * and its reason (the SQLite error, paths left out by the checkpointer); it passes again once a
 * pass succeeds.
 */
export function walCheckpointHealth(status: () => WalCheckpointHealthSource): HealthCheck {
  return {
    name: "wal_checkpoints",
    check() {
      const { failing, failures, lastFailure } = status();
      if (!failing) return OK;
      const reason = lastFailure?.details?.reason;
      return failed(
        `degraded: WAL checkpoints on the checkpoint thread are failing (${lastFailure?.code ?? "unknown"}${typeof reason === "string" ? `: ${reason}` : ""}; ${failures} failed since start); the writer checkpoints on its own meanwhile`,
      );
    },
  };
}

export interface HealthReport {
  readonly ready: boolean;
  readonly checks: Record<string, HealthVerdict>;
}

export function healthReport(checks: readonly HealthCheck[], now: number): HealthReport {
  const verdicts: Record<string, HealthVerdict> = {};
  for (const check of checks) {
    try {
      verdicts[check.name] = check.check(now);
    } catch (error) {
      // a check that throws is a failed check, not a failed /health
      verdicts[check.name] = failed(
        `the check itself failed: ${error instanceof Error ? error.name : "error"}`,
      );
    }
  }
  return { ready: Object.values(verdicts).every((v) => v.ok), checks: verdicts };
}

export interface NodeHealthSignals {
  /** the node's fatal failure, if any */
  readonly fatal: () => unknown;
  readonly mqtt: MqttHealthSource;
  /** the simulator runs (or sensors are known to publish): silence is a failure */
  readonly expectMqttTraffic: boolean;
  /** silence allowed on MQTT while traffic is expected; default 10 s */
  readonly mqttMaxSilenceMs?: number;
  /** the MQTT ingest rate known to be published (the simulator's), if any */
  readonly expectedMqttRate?: number;
  /** heartbeat and log silence allowed; default 15 s (the node samples every 2 s) */
  readonly maxSilenceMs?: number;
  readonly startedAt: number;
  /** the embedded log's background WAL checkpoints, when the node's log has them */
  readonly walCheckpoints?: () => WalCheckpointHealthSource;
}

/**
 * The node's checks (a fourth, wal_checkpoints, when the log checkpoints on a thread) and the hooks that feed them: `heartbeat()` when every actor system
 * answered its stats, `logAnswered()` when the log answered, `sample(now)` on a timer.
 */
export function nodeHealth(signals: NodeHealthSignals) {
  const maxSilenceMs = signals.maxSilenceMs ?? 15_000;
  let lastHeartbeatAt = signals.startedAt;
  let lastLogAnswerAt = signals.startedAt;
  const mqtt = mqttHealth(signals.mqtt, {
    expectTraffic: signals.expectMqttTraffic,
    maxSilenceMs: signals.mqttMaxSilenceMs ?? 10_000,
    reconnectQuietMs: 5000,
    startedAt: signals.startedAt,
    ...(signals.expectedMqttRate !== undefined ? { expectedRatePerSecond: signals.expectedMqttRate } : {}),
  });
  const actors = actorsHealth(
    {
      fatal: () => {
        const fatal = signals.fatal();
        if (fatal === undefined) return undefined;
        const code = (fatal as { code?: unknown }).code;
        return typeof code === "string" ? { code } : {};
      },
      lastHeartbeatAt: () => lastHeartbeatAt,
    },
    { maxSilenceMs },
  );
  const log = logHealth(() => lastLogAnswerAt, { maxSilenceMs });
  return {
    checks: [
      actors,
      log,
      mqtt,
      ...(signals.walCheckpoints ? [walCheckpointHealth(signals.walCheckpoints)] : []),
    ] as readonly HealthCheck[],
    heartbeat(at = Date.now()) {
      lastHeartbeatAt = at;
    },
    logAnswered(at = Date.now()) {
      lastLogAnswerAt = at;
    },
    sample(now: number) {
      mqtt.sample(now);
    },
  };
}
