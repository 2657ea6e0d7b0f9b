import type { SystemSignal } from "./actor.ts";

/** An internal system-lane entry: a signal for `onSignal`, or a deferred failure (MAILBOX_FULL). */
export type SystemLaneEntry = SystemSignal | { readonly type: "fail"; readonly reason: unknown };

/** A sender waiting for room under back-pressure (`ActorRef.offer`). */
export interface OfferWaiter {
  readonly message: unknown;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

const INITIAL_SLOTS = 4;

/**
 * One actor's mailbox: a user lane (a ring buffer over a plain array whose length is a power of
 * two, grown by doubling up to the kind's capacity) and a system lane (a plain array, allocated
 * only while it holds something, never bounded or dropped). The capacity and overflow policy
 * live on the kind, not here, so an idle mailbox is three numbers and one array.
 * The whole object is created lazily on an actor's first message.
 */
export class Mailbox {
  slots: unknown[] = new Array(INITIAL_SLOTS);
  head = 0;
  size = 0;
  system: SystemLaneEntry[] | undefined = undefined;
  waiters: OfferWaiter[] | undefined = undefined;

  push(message: unknown): void {
    let slots = this.slots;
    if (this.size === slots.length) slots = this.grow();
    slots[(this.head + this.size) & (slots.length - 1)] = message;
    this.size++;
  }

  shift(): unknown {
    const slots = this.slots;
    const head = this.head;
    const message = slots[head];
    slots[head] = undefined;
    this.head = (head + 1) & (slots.length - 1);
    this.size--;
    return message;
  }

  pushSystem(entry: SystemLaneEntry): void {
    if (this.system === undefined) this.system = [entry];
    else this.system.push(entry);
  }

  /** empties the user lane, handing each message to `each` (dead letters on stop) */
  clear(each: (message: unknown) => void): void {
    while (this.size > 0) each(this.shift());
  }

  private grow(): unknown[] {
    const old = this.slots;
    const grown = new Array<unknown>(old.length * 2);
    for (let i = 0; i < this.size; i++) grown[i] = old[(this.head + i) & (old.length - 1)];
    this.slots = grown;
    this.head = 0;
    return grown;
  }
}

const POOL_LIMIT = 4_096;
const POOLED_SLOTS_LIMIT = 64;

/**
 * Idle actors give their mailbox back, so a million idle actors hold no mailboxes; the pool
 * keeps a few thousand empty ones so that busy actors going idle and waking again (ping-pong)
 * do not allocate per message.
 */
export class MailboxPool {
  private readonly free: Mailbox[] = [];

  acquire(): Mailbox {
    return this.free.pop() ?? new Mailbox();
  }

  /** `mailbox` must be empty, with no system entries and no waiters */
  release(mailbox: Mailbox): void {
    if (this.free.length >= POOL_LIMIT || mailbox.slots.length > POOLED_SLOTS_LIMIT) return;
    mailbox.head = 0;
    this.free.push(mailbox);
  }
}
