import type { RestartType, SupervisionTreeNode, SupervisorSpec, SystemEvent } from "../actor.ts";
import type { RestartIntensity } from "./restart-intensity.ts";

/** What a supervisor can do to a child: an actor cell, or a sharded kind's supervisor. */
export interface SupervisedChild {
  readonly address: string;
  readonly restartType: RestartType;
  /** the child's own restart history (the back-off attempt, and the intensity in "child" scope) */
  restartLog(spec: SupervisorSpec): RestartIntensity;
  /** stop for good: no further incarnation */
  terminate(reason: string): void;
  /** stop the current incarnation (if still running) and start a fresh one after `delayMs` */
  restart(reason: unknown, delayMs: number): void;
  treeNode(): SupervisionTreeNode;
}

/** What a child reports to its supervisor. The child is suspended until the supervisor decides. */
export interface Supervisor {
  readonly address: string;
  childFailed(child: SupervisedChild, reason: unknown): void;
  /** the child stopped itself (normal exit) */
  childExited(child: SupervisedChild): void;
}

/** The runtime services supervision needs; the actor system provides them. */
export interface SupervisionHost {
  now(): number;
  random(): number;
  publish(event: SystemEvent): void;
  /** run `task` after `delayMs`; tracked so `stop()` cancels it and `drain()` waits for it */
  later(delayMs: number, task: () => void): void;
  countRestart(): void;
}

export function describeReason(reason: unknown): string {
  if (reason instanceof Error) return reason.message;
  if (typeof reason === "string") return reason;
  try {
    return JSON.stringify(reason) ?? String(reason);
  } catch {
    return String(reason);
  }
}
