import { SCHEDULED } from "./scheduler.ts";

/** An actor cell's state bits (`ActorCell.flags`); `SCHEDULED` (1) belongs to the scheduler. */

/** an async receive or a snapshot load is in flight: nothing else runs */
export const BUSY = 2;
/** failed or exited: waiting for the supervisor to restart or terminate it */
export const SUSPENDED = 4;
/** terminated or passivated: this cell never runs again */
export const DEAD = 8;
/** `ctx.stop()` was called: exit after the current message */
export const STOP_REQUESTED = 16;
/** on the scheduler's went-idle list, to give its mailbox back at the end of the slice */
export const IDLE_NOTED = 32;
export const NOT_RUNNABLE = SCHEDULED | BUSY | SUSPENDED | DEAD;
