/**
 * An actor's named timers. A timer delivers its message through the actor's own `tell`, so it
 * obeys the mailbox like any other message; starting a timer under a used name replaces it.
 * The owner clears the table on restart, stop and passivation, so no timer outlives the
 * incarnation that started it.
 */
export class TimerTable {
  private readonly handles = new Map<string, ReturnType<typeof setTimeout>>();

  start(name: string, delayMs: number, repeat: boolean, fire: () => void): void {
    this.cancel(name);
    const handles = this.handles;
    const handle = repeat
      ? setInterval(fire, delayMs)
      : setTimeout(() => {
          handles.delete(name);
          fire();
        }, delayMs);
    handles.set(name, handle);
  }

  cancel(name: string): void {
    const handle = this.handles.get(name);
    if (handle === undefined) return;
    clearTimeout(handle);
    clearInterval(handle);
    this.handles.delete(name);
  }

  clear(): void {
    for (const handle of this.handles.values()) {
      clearTimeout(handle);
      clearInterval(handle);
    }
    this.handles.clear();
  }

  get size(): number {
    return this.handles.size;
  }
}

/**
 * A message from a timer started with `keepsAlive: false`: the cell unwraps it before the
 * behaviour sees it and does not count it as activity, so the actor can still passivate.
 */
export class QuietMessage {
  constructor(readonly message: unknown) {}
}
