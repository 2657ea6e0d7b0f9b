import type { LabelMatcher, Silence } from "../messages/alert.ts";
import { ErrorCodes, PlatformError } from "../messages/errors.ts";
import { type CompiledMatcher, compileMatcher, matchesAll } from "./label-matchers.ts";

/**
 * Alertmanager's silences: matchers, a time range, who and why. An alert whose labels match
 * every matcher of a silence that is active now is muted: it is kept, shown as silenced, and not
 * sent to any channel. A silence is pending before `startsAt`, active until `endsAt`, then
 * expired; expiring it early (DELETE) sets `endsAt` to now, as Alertmanager does. Expired
 * silences are kept `retentionMs` for the record, then dropped. Every change is handed to
 * `onChange` with the whole set, so a node can keep them across restarts.
 */
export type SilenceState = "pending" | "active" | "expired";

export interface SilenceInput {
  readonly matchers: readonly LabelMatcher[];
  readonly startsAt: number;
  readonly endsAt: number;
  readonly createdBy: string;
  readonly comment: string;
}

export interface SilencesOptions {
  readonly onChange?: (all: readonly Silence[]) => void;
  /** default 120 h, Alertmanager's data retention */
  readonly retentionMs?: number;
  /** silences kept at most (active and expired); default 10,000 */
  readonly maxSilences?: number;
  readonly newId?: () => string;
}

export function silenceState(silence: Silence, now: number): SilenceState {
  if (now < silence.startsAt) return "pending";
  return now < silence.endsAt ? "active" : "expired";
}

export class Silences {
  private readonly all = new Map<string, { silence: Silence; matchers: CompiledMatcher[] }>();
  private readonly retentionMs: number;
  private readonly maxSilences: number;

  constructor(
    restored: readonly Silence[] = [],
    private readonly options: SilencesOptions = {},
  ) {
    this.retentionMs = options.retentionMs ?? 120 * 3_600_000;
    this.maxSilences = options.maxSilences ?? 10_000;
    for (const silence of restored) {
      const matchers = compileAll(silence.matchers);
      if (!(matchers instanceof Error)) this.all.set(silence.id, { silence, matchers });
    }
  }

  create(input: SilenceInput, now: number): Silence {
    if (!(input.endsAt > input.startsAt))
      throw new PlatformError(ErrorCodes.BAD_REQUEST, "endsAt must be after startsAt");
    if (input.endsAt <= now) throw new PlatformError(ErrorCodes.BAD_REQUEST, "endsAt is in the past");
    const matchers = compileAll(input.matchers);
    if (matchers instanceof Error) throw new PlatformError(ErrorCodes.BAD_REQUEST, matchers.message);
    if (!input.matchers.some((m) => !matchesEmpty(m)))
      throw new PlatformError(
        ErrorCodes.BAD_REQUEST,
        "at least one matcher must not match the empty string (a silence of every alert)",
      );
    this.collect(now);
    if (this.all.size >= this.maxSilences)
      throw new PlatformError(ErrorCodes.BAD_REQUEST, `at most ${this.maxSilences} silences are kept`);
    const silence: Silence = {
      id: this.options.newId?.() ?? crypto.randomUUID(),
      matchers: input.matchers.map((m) => ({ ...m })),
      // a start in the past means now, as in Alertmanager
      startsAt: Math.max(input.startsAt, now),
      endsAt: input.endsAt,
      createdBy: input.createdBy,
      comment: input.comment,
      updatedAt: now,
    };
    this.all.set(silence.id, { silence, matchers });
    this.changed();
    return silence;
  }

  /** expire a silence now; NOT_FOUND for an unknown id, BAD_REQUEST for one already expired */
  expire(id: string, now: number): Silence {
    const entry = this.all.get(id);
    if (!entry) throw new PlatformError(ErrorCodes.NOT_FOUND, "no such silence");
    if (silenceState(entry.silence, now) === "expired")
      throw new PlatformError(ErrorCodes.BAD_REQUEST, "the silence has already expired");
    const expired = {
      ...entry.silence,
      endsAt: now,
      startsAt: Math.min(entry.silence.startsAt, now),
      updatedAt: now,
    };
    this.all.set(id, { silence: expired, matchers: entry.matchers });
    this.changed();
    return expired;
  }

  get(id: string): Silence | undefined {
    return this.all.get(id)?.silence;
  }

  list(now: number): { silence: Silence; state: SilenceState }[] {
    this.collect(now);
    return [...this.all.values()].map(({ silence }) => ({ silence, state: silenceState(silence, now) }));
  }

  /** the ids of the active silences that mute these labels; empty when none does */
  mutedBy(labels: Readonly<Record<string, string>>, now: number): string[] {
    const ids: string[] = [];
    for (const { silence, matchers } of this.all.values())
      if (silenceState(silence, now) === "active" && matchesAll(matchers, labels)) ids.push(silence.id);
    return ids;
  }

  /** drop expired silences past their retention */
  private collect(now: number): void {
    let dropped = false;
    for (const [id, { silence }] of this.all)
      if (silence.endsAt + this.retentionMs <= now) {
        this.all.delete(id);
        dropped = true;
      }
    if (dropped) this.changed();
  }

  private changed(): void {
    this.options.onChange?.([...this.all.values()].map((e) => e.silence));
  }
}

function compileAll(matchers: readonly LabelMatcher[]): CompiledMatcher[] | Error {
  const compiled: CompiledMatcher[] = [];
  for (const m of matchers) {
    const c = compileMatcher(m);
    if (c instanceof Error) return c;
    compiled.push(c);
  }
  return compiled;
}

/** Alertmanager refuses silences whose every matcher matches "": they would mute everything */
function matchesEmpty(matcher: LabelMatcher): boolean {
  const compiled = compileMatcher(matcher);
  return compiled instanceof Error ? false : compiled.matches({});
}
