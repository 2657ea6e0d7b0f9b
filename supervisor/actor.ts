/**
 * The actor contract: what an actor kind is, what it can do while handling a message, and how
 * others address it. The runtime (`supervisor/actor-system.ts`) implements it; actor kinds in
 * `actors/` only import these types. Nothing here knows Kafka, Hono or `Bun.*`.
 */

/** How a full mailbox behaves, chosen per kind. */
export type OverflowPolicy =
  /** `tell` returns false and the message is not enqueued; `offer` waits for room (ingest) */
  | "backpressure"
  /** the oldest queued message is dropped and counted (telemetry feeds) */
  | "drop-oldest"
  /** the receiving actor fails with MAILBOX_FULL and its supervisor decides */
  | "fail";

export interface MailboxSpec {
  readonly capacity: number;
  readonly overflow: OverflowPolicy;
}

/** An actor's address: `kind/key`, e.g. `sensor/traffic_3`. */
export type Address = `${string}/${string}`;

export interface ActorRef<M> {
  readonly address: Address;
  /** enqueue without waiting; false when the message was not enqueued (full or stopped) */
  tell(message: M): boolean;
  /** enqueue, waiting for room under back-pressure; rejects with ACTOR_STOPPED if it stops */
  offer(message: M): Promise<void>;
}

/** System messages travel on their own lane, which is never dropped or bounded. */
export type SystemSignal =
  | { readonly type: "started" }
  | { readonly type: "restarted"; readonly reason: unknown }
  | { readonly type: "stopping" }
  | { readonly type: "passivating" };

export interface TimerOptions {
  readonly repeat?: boolean;
  /**
   * false: the timer's messages do not count as activity for passivation (Akka's
   * NotInfluenceReceiveTimeout), so a periodic housekeeping tick cannot keep an idle actor alive
   * for ever; default true
   */
  readonly keepsAlive?: boolean;
}

export interface ActorContext<M, S> {
  readonly self: ActorRef<M>;
  readonly kind: string;
  readonly key: string;
  /** the actor's own state; replace or mutate it freely */
  state: S;
  /** a ref to `kind/key`, spawned on first message if the kind is registered (sharded entities) */
  ref<T>(kind: string, key: string): ActorRef<T>;
  /** start a child supervised by this actor under its `supervision` spec */
  spawnChild<T, C>(props: Props<T, C>, key: string, restart?: RestartType): ActorRef<T>;
  /** deliver `message` to self after `delayMs` (and every `delayMs` with repeat); same name replaces */
  startTimer(name: string, delayMs: number, message: M, options?: TimerOptions): void;
  cancelTimer(name: string): void;
  /** stop this actor after the current message (normal exit: transient children are not restarted) */
  stop(): void;
  /** publish on the system's event stream (metrics, WebSocket feeds subscribe) */
  publish(event: SystemEvent): void;
  /** the system clock (injectable for tests) */
  now(): number;
}

/**
 * The behaviour: a function of (context, message). It may return a promise, in which case the
 * actor handles no other message until it settles (I/O actors: sinks, webhooks).
 * A throw or a rejected promise is a failure handled by the actor's supervisor.
 */
export type Receive<M, S> = (ctx: ActorContext<M, S>, message: M) => void | PromiseLike<void>;

export interface Props<M, S> {
  readonly kind: string;
  readonly receive: Receive<M, S>;
  /** the state a fresh incarnation starts with; `snapshot` is the state saved at passivation */
  readonly initialState: (key: string, snapshot: S | undefined) => S;
  readonly onSignal?: (ctx: ActorContext<M, S>, signal: SystemSignal) => void;
  readonly mailbox?: MailboxSpec;
  /** stop after this long without messages, keeping a snapshot of the state; default never */
  readonly passivateAfterMs?: number;
  /**
   * The state as plain data, for snapshots that leave the process (a changelog topic). When a
   * kind defines it, passivation saves `toSnapshot(state)` and `initialState` receives that form
   * back, whether it comes from passivation or from a changelog restore.
   */
  readonly toSnapshot?: (state: S) => unknown;
  /** how this actor supervises its own children */
  readonly supervision?: SupervisorSpec;
  /** messages per turn for this kind (fan-in sinks want more); default the system's budget */
  readonly turnBudget?: number;
}

export type SupervisionStrategy = "one_for_one" | "one_for_all" | "rest_for_one";

/** OTP's restart types: permanent always, transient only after a failure, temporary never. */
export type RestartType = "permanent" | "transient" | "temporary";

export interface BackoffSpec {
  readonly minMs: number;
  readonly maxMs: number;
  /** 0..1: the share of each delay that is random */
  readonly jitter: number;
}

/** Supervision is data, as in OTP: `#{strategy => one_for_one, intensity => 3, period => 5}`. */
export interface SupervisorSpec {
  readonly strategy: SupervisionStrategy;
  /** at most `intensity` restarts within `periodMs`, else the supervisor fails (escalates) */
  readonly intensity: number;
  readonly periodMs: number;
  readonly backoff?: BackoffSpec;
  /**
   * What `intensity` counts: "supervisor" (OTP: all children's restarts together; exceeding it
   * fails the supervisor, which escalates) or "child" (Akka's OneForOneStrategy: each child's
   * own restarts; exceeding it stops that child only). Default "supervisor"; the per-kind
   * supervisor of sharded entities defaults to "child" so one poisoned key cannot take the
   * whole kind down.
   */
  readonly intensityScope?: "supervisor" | "child";
}

export type SupervisionDecision = "restart" | "stop" | "escalate" | "ignore";

/** Every supervision decision and lifecycle change is published as one of these. */
export type SystemEvent =
  | {
      readonly type: "supervision";
      readonly supervisor: string;
      readonly child: string;
      readonly decision: SupervisionDecision;
      readonly reason: string;
      readonly strategy: SupervisionStrategy;
      readonly restarts: number;
      readonly delayMs: number;
      readonly at: number;
    }
  | { readonly type: "actor-started"; readonly address: string; readonly at: number }
  | { readonly type: "actor-stopped"; readonly address: string; readonly reason: string; readonly at: number }
  | { readonly type: "actor-passivated"; readonly address: string; readonly at: number }
  | {
      readonly type: "dead-letter";
      readonly address: string;
      readonly reason: string;
      readonly at: number;
    }
  | { readonly type: "custom"; readonly topic: string; readonly payload: unknown; readonly at: number };

/** One node of the supervision tree as JSON (the REST API serves it). */
export interface SupervisionTreeNode {
  readonly address: string;
  /** present on supervisors */
  readonly strategy?: SupervisionStrategy;
  readonly restarts: number;
  readonly mailboxDepth: number;
  readonly status: "running" | "restarting" | "busy" | "stopped";
  readonly children: readonly SupervisionTreeNode[];
  /** sharded kinds: how many entities are alive; `children` then lists only the first few */
  readonly count?: number;
}

export interface ActorSystemStats {
  readonly actors: number;
  readonly mailboxDepth: number;
  readonly processed: number;
  readonly restarts: number;
  readonly deadLetters: number;
  readonly droppedMessages: number;
  readonly byKind: Readonly<Record<string, { readonly actors: number; readonly mailboxDepth: number }>>;
}
