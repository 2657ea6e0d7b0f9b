import { ErrorCodes, PlatformError } from "../messages/errors.ts";
import type { SupervisionTreeNode } from "./actor.ts";
import type { ActorCell } from "./actor-cell.ts";
import { BUSY, DEAD, NOT_RUNNABLE, SUSPENDED } from "./cell-flags.ts";
import type { Mailbox } from "./mailbox.ts";

/**
 * The cold paths of message delivery, kept out of `ActorCell` so its hot path stays short:
 * telling a stopped or stopping actor, a full mailbox under each overflow policy, and offers
 * that wait for room under back-pressure.
 */

export function tellSlowly(cell: ActorCell, message: unknown): boolean {
  const kind = cell.actorKind;
  const host = kind.host;
  if (host.closing && !host.scheduler.running) {
    host.deadLetter(cell.address, "system stopping");
    return false;
  }
  if ((cell.flags & DEAD) !== 0) {
    // a sharded entity that passivated or stopped comes back on its next message
    if (kind.cells !== undefined && !host.closing) return host.ref(kind.name, cell.key).tell(message);
    host.deadLetter(cell.address, "actor stopped");
    return false;
  }
  const mailbox = cell.ensureMailbox();
  if (mailbox.size >= kind.capacity) return overflowInto(cell, mailbox, message);
  mailbox.push(message);
  kind.depth++;
  if ((cell.flags & NOT_RUNNABLE) === 0) host.scheduler.schedule(cell);
  return true;
}

export function overflowInto(cell: ActorCell, mailbox: Mailbox, message: unknown): boolean {
  const kind = cell.actorKind;
  switch (kind.overflow) {
    case "backpressure":
      return false;
    case "drop-oldest":
      mailbox.shift();
      mailbox.push(message);
      kind.host.droppedMessages++;
      return true;
    case "fail": {
      kind.host.deadLetter(cell.address, "mailbox full");
      const lane = mailbox.system;
      if (lane === undefined || !lane.some((entry) => entry.type === "fail")) {
        const reason = new PlatformError(ErrorCodes.MAILBOX_FULL, `${cell.address} mailbox is full`, {
          details: { capacity: kind.capacity },
        });
        cell.pushSystem({ type: "fail", reason });
      }
      return false;
    }
  }
}

export function offerTo(cell: ActorCell, message: unknown): Promise<void> {
  const kind = cell.actorKind;
  if ((cell.flags & DEAD) !== 0 && kind.cells !== undefined && !kind.host.closing) {
    return kind.host.ref(kind.name, cell.key).offer(message);
  }
  if (cell.tell(message)) return Promise.resolve();
  const mailbox = cell.mailbox;
  if ((cell.flags & DEAD) === 0 && !kind.host.closing && kind.overflow === "backpressure" && mailbox) {
    return new Promise<void>((resolve, reject) => {
      if (mailbox.waiters === undefined) mailbox.waiters = [];
      mailbox.waiters.push({ message, resolve, reject });
    });
  }
  const code =
    kind.overflow === "backpressure" || (cell.flags & DEAD) !== 0 ? "ACTOR_STOPPED" : "MAILBOX_FULL";
  return Promise.reject(new PlatformError(ErrorCodes[code], `${cell.address} did not accept the message`));
}

/** moves waiting offers into the mailbox while there is room */
export function admitWaiters(cell: ActorCell, mailbox: Mailbox): void {
  const waiters = mailbox.waiters!;
  const kind = cell.actorKind;
  while (waiters.length > 0 && mailbox.size < kind.capacity) {
    const waiter = waiters.shift()!;
    mailbox.push(waiter.message);
    kind.depth++;
    waiter.resolve();
  }
  if (waiters.length === 0) mailbox.waiters = undefined;
}

export function cellTreeNode(cell: ActorCell): SupervisionTreeNode {
  const flags = cell.flags;
  const status =
    (flags & DEAD) !== 0
      ? "stopped"
      : (flags & SUSPENDED) !== 0
        ? "restarting"
        : (flags & BUSY) !== 0
          ? "busy"
          : "running";
  const children = cell.children;
  const node = {
    address: cell.address,
    restarts: cell.restartCount,
    mailboxDepth: cell.mailbox?.size ?? 0,
    status,
    children: children?.tree() ?? [],
  } as const;
  return children === undefined ? node : { ...node, strategy: children.spec.strategy };
}
