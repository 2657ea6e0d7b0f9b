/** Something the scheduler can run for one turn: an actor cell. */
export interface Runnable {
  /** bit flags owned by the runnable; the scheduler only sets and reads `SCHEDULED` */
  flags: number;
  /** handle up to `budget` messages; re-schedules itself if it still has work */
  runTurn(budget: number): void;
  /** called at the end of a slice for runnables that went idle during it (`noteIdle`) */
  reclaim(): void;
}

export const SCHEDULED = 1;

/** turns per event-loop slice before yielding (timers, I/O and promises get to run) */
const TURNS_PER_SLICE = 4096;

/**
 * Run-to-completion scheduling with a per-turn budget: a ready queue (a ring of runnables) is
 * drained round-robin; each runnable handles at most `budget` messages per turn and goes to the
 * back of the queue if it has more, so a flooded actor cannot starve the others. After
 * TURNS_PER_SLICE turns the loop yields to the event loop with setImmediate.
 */
export class Scheduler {
  private ready: Runnable[] = new Array(64);
  private head = 0;
  private size = 0;
  private pending = false;
  running = false;
  /** the clock read once per slice: actors stamp their last activity with it, not per message */
  sliceNow = 0;
  private wentIdle: Runnable[] = [];
  private readonly runSlice = () => this.slice();

  constructor(
    readonly budget: number,
    private readonly clock: () => number,
    private readonly onIdle: () => void,
  ) {
    this.sliceNow = clock();
  }

  schedule(runnable: Runnable): void {
    runnable.flags |= SCHEDULED;
    let ready = this.ready;
    if (this.size === ready.length) ready = this.grow();
    ready[(this.head + this.size) & (ready.length - 1)] = runnable;
    this.size++;
    if (!this.pending && !this.running) {
      this.pending = true;
      setImmediate(this.runSlice);
    }
  }

  /** `runnable` went idle during this slice: call its `reclaim()` when the slice ends */
  noteIdle(runnable: Runnable): void {
    this.wentIdle.push(runnable);
  }

  get queued(): number {
    return this.size;
  }

  get idle(): boolean {
    return this.size === 0 && !this.running;
  }

  private slice(): void {
    this.pending = false;
    this.running = true;
    this.sliceNow = this.clock();
    const budget = this.budget;
    let turns = 0;
    try {
      while (this.size > 0 && turns < TURNS_PER_SLICE) {
        const ready = this.ready;
        const runnable = ready[this.head]!;
        ready[this.head] = undefined as unknown as Runnable;
        this.head = (this.head + 1) & (ready.length - 1);
        this.size--;
        runnable.flags &= ~SCHEDULED;
        runnable.runTurn(budget);
        turns++;
      }
    } finally {
      this.running = false;
      const wentIdle = this.wentIdle;
      if (wentIdle.length > 0) {
        this.wentIdle = [];
        for (const runnable of wentIdle) runnable.reclaim();
      }
    }
    if (this.size > 0) {
      this.pending = true;
      setImmediate(this.runSlice);
    } else {
      this.onIdle();
    }
  }

  private grow(): Runnable[] {
    const old = this.ready;
    const grown = new Array<Runnable>(old.length * 2);
    for (let i = 0; i < this.size; i++) grown[i] = old[(this.head + i) & (old.length - 1)]!;
    this.ready = grown;
    this.head = 0;
    return grown;
  }
}
