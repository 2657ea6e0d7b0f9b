import { ErrorCodes, PlatformError } from "../messages/errors.ts";
import type {
  ActorRef,
  ActorSystemStats,
  Props,
  RestartType,
  SupervisionTreeNode,
  SupervisorSpec,
  SystemEvent,
} from "./actor.ts";
import { ActorCell } from "./actor-cell.ts";
import { ActorKind, type CellHost } from "./actor-kind.ts";
import { DEAD } from "./cell-flags.ts";
import { type CellResolver, EntityRef } from "./entity-ref.ts";
import { EventStream } from "./event-stream.ts";
import { MailboxPool } from "./mailbox.ts";
import { Passivation } from "./passivation.ts";
import { Scheduler } from "./scheduler.ts";
import { InMemorySnapshotStore, type SnapshotStore } from "./snapshot-store.ts";
import { ChildSupervisor } from "./supervision/child-supervisor.ts";
import { DEFAULT_ENTITY_SUPERVISION, KindSupervisor } from "./supervision/kind-supervisor.ts";

export interface ActorSystemOptions {
  readonly name?: string;
  /** the clock actors see (`ctx.now()`), restart periods and passivation use; default Date.now */
  readonly clock?: () => number;
  /** messages one actor handles per turn before others get theirs; default 64 */
  readonly turnBudget?: number;
  readonly snapshots?: SnapshotStore;
  readonly rootSupervision?: SupervisorSpec;
  /** jitter source; default Math.random */
  readonly random?: () => number;
  /** how long `stop()` drains before stopping anyway; default 5 s */
  readonly stopTimeoutMs?: number;
}

export interface ActorSystem {
  readonly name: string;
  readonly events: EventStream;
  /** a sharded kind: `kind/key` is spawned on its first message, one_for_one under `kind/*` */
  register<M, S>(props: Props<M, S>, options?: { restart?: RestartType }): void;
  ref<M>(kind: string, key: string): ActorRef<M>;
  /** `ref(kind, key).tell(message)` without allocating a ref (ingest routing, hot paths) */
  tell<M>(kind: string, key: string, message: M): boolean;
  /** a top-level actor under the root supervisor; throws ACTOR_EXISTS if the address is live */
  spawn<M, S>(props: Props<M, S>, key: string, options?: { restart?: RestartType }): ActorRef<M>;
  tree(): SupervisionTreeNode;
  stats(): ActorSystemStats;
  /** resolves when every mailbox is empty and nothing async runs; rejects with DRAIN_TIMEOUT */
  drain(timeoutMs?: number): Promise<void>;
  /**
   * stop accepting outside messages, drain (at most `timeoutMs`, default the system's
   * `stopTimeoutMs`; what is still queued then is abandoned), signal `stopping`, stop timers
   */
  stop(timeoutMs?: number): Promise<void>;
}

export const DEFAULT_ROOT_SUPERVISION: SupervisorSpec = {
  strategy: "one_for_one",
  intensity: 10,
  periodMs: 10_000,
  backoff: { minMs: 10, maxMs: 5_000, jitter: 0.2 },
};

/** how an actor supervises the children it spawns, when its props say nothing */
export const DEFAULT_CHILD_SUPERVISION: SupervisorSpec = DEFAULT_ROOT_SUPERVISION;

export function createActorSystem(options: ActorSystemOptions = {}): ActorSystem {
  return new LocalActorSystem(options);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

class LocalActorSystem implements ActorSystem, CellHost, CellResolver {
  readonly name: string;
  readonly events: EventStream;
  readonly scheduler: Scheduler;
  readonly snapshots: SnapshotStore;
  readonly mailboxes = new MailboxPool();
  private readonly passivation: Passivation = new Passivation(this);
  closing = false;
  processed = 0;
  droppedMessages = 0;
  asyncInFlight = 0;
  private deadLetters = 0;
  private restarts = 0;
  private readonly clock: () => number;
  private readonly randomSource: () => number;
  private readonly stopTimeoutMs: number;
  private readonly root: ChildSupervisor;
  private readonly kinds = new Map<string, ActorKind>();
  private readonly spawnedKinds = new WeakMap<Props<unknown, unknown>, ActorKind>();
  private readonly allKinds: ActorKind[] = [];
  private readonly spawned = new Map<string, ActorCell>();
  private readonly pendingTasks = new Set<ReturnType<typeof setTimeout>>();
  private readonly sweepers: ReturnType<typeof setInterval>[] = [];
  private stopping: Promise<void> | undefined = undefined;

  constructor(options: ActorSystemOptions) {
    this.name = options.name ?? "actors";
    this.clock = options.clock ?? Date.now;
    this.randomSource = options.random ?? Math.random;
    this.stopTimeoutMs = options.stopTimeoutMs ?? 5_000;
    this.snapshots = options.snapshots ?? new InMemorySnapshotStore();
    this.events = new EventStream();
    this.scheduler = new Scheduler(Math.max(1, options.turnBudget ?? 64), this.clock, () => {});
    this.root = new ChildSupervisor("root", options.rootSupervision ?? DEFAULT_ROOT_SUPERVISION, this, () => {
      // the root has no one to escalate to: its children are already terminated; the event said why
      this.root.stopped = true;
    });
  }

  // ---- SupervisionHost / CellHost ----------------------------------------------------------

  now(): number {
    return this.clock();
  }

  random(): number {
    return this.randomSource();
  }

  get hasListeners(): boolean {
    return this.events.hasListeners;
  }

  publish(event: SystemEvent): void {
    this.events.publish(event);
  }

  later(delayMs: number, task: () => void): void {
    const handle = setTimeout(() => {
      this.pendingTasks.delete(handle);
      task();
    }, delayMs);
    this.pendingTasks.add(handle);
  }

  countRestart(): void {
    this.restarts++;
  }

  deadLetter(address: string, reason: string): void {
    this.deadLetters++;
    if (this.events.hasListeners) this.publish({ type: "dead-letter", address, reason, at: this.clock() });
  }

  reportError(where: string, error: unknown): void {
    const reason = error instanceof Error ? error.message : String(error);
    this.publish({ type: "custom", topic: "runtime-error", payload: { where, reason }, at: this.clock() });
  }

  forget(cell: ActorCell, passivated: boolean): void {
    const kind = cell.actorKind;
    if (kind.cells === undefined) {
      if (this.spawned.get(cell.address) === cell) this.spawned.delete(cell.address);
      return;
    }
    if (!passivated && kind.passivates)
      this.passivation.settle(`delete snapshot ${cell.address}`, () => this.snapshots.delete(cell.address));
  }

  // ---- refs and spawning -------------------------------------------------------------------

  register<M, S>(props: Props<M, S>, options: { restart?: RestartType } = {}): void {
    if (this.kinds.has(props.kind)) {
      throw new PlatformError(ErrorCodes.ACTOR_EXISTS, `actor kind ${props.kind} is already registered`);
    }
    const kind = new ActorKind(
      props as unknown as Props<unknown, unknown>,
      this,
      options.restart ?? "transient",
    );
    kind.cells = new Map();
    const supervisor = new KindSupervisor(
      kind,
      props.supervision ?? DEFAULT_ENTITY_SUPERVISION,
      this,
      this.root,
    );
    kind.supervisor = supervisor;
    this.root.add(supervisor);
    this.kinds.set(kind.name, kind);
    this.allKinds.push(kind);
    if (kind.passivates) {
      const every = Math.max(5, Math.min(kind.passivateAfterMs / 2, 1_000));
      const sweeper = setInterval(() => this.passivation.passivateIdle(kind), every);
      (sweeper as { unref?: () => void }).unref?.();
      this.sweepers.push(sweeper);
    }
  }

  ref<M>(kind: string, key: string): ActorRef<M> {
    const cell = this.kinds.get(kind)?.cells?.get(key) ?? this.spawned.get(`${kind}/${key}`);
    if (cell !== undefined && (cell.flags & DEAD) === 0) return cell as ActorRef<M>;
    return new EntityRef(this, kind, key) as ActorRef<M>;
  }

  tell<M>(kind: string, key: string, message: M): boolean {
    const cell = this.resolve(kind, key);
    if (typeof cell === "string") {
      this.deadLetter(`${kind}/${key}`, cell);
      return false;
    }
    return cell.tell(message);
  }

  resolve(kindName: string, key: string): ActorCell | string {
    const kind = this.kinds.get(kindName);
    if (kind === undefined) {
      const cell = this.spawned.get(`${kindName}/${key}`);
      if (cell !== undefined && (cell.flags & DEAD) === 0) return cell;
      return `unknown actor ${kindName}/${key}`;
    }
    if (this.closing && !this.scheduler.running) return "system stopping";
    const supervisor = kind.supervisor as KindSupervisor;
    if (supervisor.stopped) return `supervisor ${supervisor.address} stopped`;
    const cells = kind.cells!;
    let cell = cells.get(key);
    if (cell !== undefined) return cell;
    cell = new ActorCell(kind, key, supervisor, kind.restartType);
    cells.set(key, cell);
    kind.actors++;
    if (kind.passivates) this.passivation.restore(kind, cell);
    else cell.start(undefined);
    return cell;
  }

  spawn<M, S>(props: Props<M, S>, key: string, options: { restart?: RestartType } = {}): ActorRef<M> {
    if (this.root.stopped || this.closing) {
      throw new PlatformError(
        ErrorCodes.ACTOR_STOPPED,
        `${this.name} is stopped; cannot spawn ${props.kind}/${key}`,
      );
    }
    return this.spawnUnder(
      this.root,
      props as unknown as Props<unknown, unknown>,
      key,
      options.restart ?? "permanent",
    ) as ActorRef<M>;
  }

  spawnChild(
    parent: ActorCell,
    props: Props<unknown, unknown>,
    key: string,
    restart: RestartType,
  ): ActorRef<unknown> {
    if (parent.children === undefined) {
      const spec = parent.actorKind.props.supervision ?? DEFAULT_CHILD_SUPERVISION;
      parent.children = new ChildSupervisor(parent.address, spec, this, (reason) =>
        parent.fail(
          new PlatformError(
            ErrorCodes.RESTART_INTENSITY_EXCEEDED,
            `${parent.address} gave up on its children`,
            {
              cause: reason,
            },
          ),
        ),
      );
    }
    return this.spawnUnder(parent.children, props, key, restart);
  }

  private spawnUnder(
    supervisor: ChildSupervisor,
    props: Props<unknown, unknown>,
    key: string,
    restart: RestartType,
  ): ActorCell {
    const address = `${props.kind}/${key}`;
    const existing = this.spawned.get(address);
    if (this.kinds.has(props.kind) || (existing !== undefined && (existing.flags & DEAD) === 0)) {
      throw new PlatformError(ErrorCodes.ACTOR_EXISTS, `${address} already exists`);
    }
    let kind = this.spawnedKinds.get(props);
    if (kind === undefined) {
      kind = new ActorKind(props, this, restart);
      this.spawnedKinds.set(props, kind);
      this.allKinds.push(kind);
    }
    const cell = new ActorCell(kind, key, supervisor, restart);
    kind.actors++;
    this.spawned.set(address, cell);
    supervisor.add(cell);
    cell.start(undefined);
    return cell;
  }

  // ---- observation -------------------------------------------------------------------------

  tree(): SupervisionTreeNode {
    let depth = 0;
    for (const kind of this.allKinds) depth += kind.depth;
    return {
      address: "root",
      strategy: this.root.spec.strategy,
      restarts: this.root.restarts,
      mailboxDepth: depth,
      status: this.root.stopped ? "stopped" : "running",
      children: this.root.tree(),
    };
  }

  stats(): ActorSystemStats {
    const byKind: Record<string, { actors: number; mailboxDepth: number }> = {};
    let actors = 0;
    let mailboxDepth = 0;
    for (const kind of this.allKinds) {
      actors += kind.actors;
      mailboxDepth += kind.depth;
      const entry = byKind[kind.name] ?? { actors: 0, mailboxDepth: 0 };
      byKind[kind.name] = entry;
      entry.actors += kind.actors;
      entry.mailboxDepth += kind.depth;
    }
    return {
      actors,
      mailboxDepth,
      processed: this.processed,
      restarts: this.restarts,
      deadLetters: this.deadLetters,
      droppedMessages: this.droppedMessages,
      byKind,
    };
  }

  // ---- shutdown ----------------------------------------------------------------------------

  private quiescent(): boolean {
    return this.scheduler.idle && this.asyncInFlight === 0 && this.pendingTasks.size === 0;
  }

  async drain(timeoutMs = 30_000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    await sleep(0);
    while (!this.quiescent()) {
      if (performance.now() > deadline) {
        throw new PlatformError(
          ErrorCodes.DRAIN_TIMEOUT,
          `${this.name} did not drain within ${timeoutMs} ms`,
          {
            details: { queued: this.scheduler.queued, asyncInFlight: this.asyncInFlight },
          },
        );
      }
      await sleep(1);
    }
  }

  stop(timeoutMs = this.stopTimeoutMs): Promise<void> {
    this.stopping ??= this.shutdown(timeoutMs);
    return this.stopping;
  }

  private async shutdown(timeoutMs: number): Promise<void> {
    this.closing = true;
    try {
      await this.drain(timeoutMs);
    } catch (error) {
      this.reportError(`${this.name} stop`, error);
    }
    for (const sweeper of this.sweepers) clearInterval(sweeper);
    this.root.stopped = true;
    this.root.terminateAll("system stopping");
    for (const handle of this.pendingTasks) clearTimeout(handle);
    this.pendingTasks.clear();
  }
}
