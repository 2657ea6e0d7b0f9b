import type { SystemEvent } from "./actor.ts";

export type SystemEventListener = (event: SystemEvent) => void;

/**
 * The system's event bus: supervision decisions, lifecycle changes, dead letters and custom
 * events. Synchronous fan-out; a listener that throws is reported through `onListenerError`
 * and the other listeners still run, so metrics cannot break the WebSocket feed.
 */
export class EventStream {
  private listeners: SystemEventListener[] = [];
  private readonly onListenerError: (error: unknown, event: SystemEvent) => void;

  constructor(onListenerError?: (error: unknown, event: SystemEvent) => void) {
    this.onListenerError =
      onListenerError ??
      ((error, event) => console.error(`event-stream: a listener failed on ${event.type}`, error));
  }

  subscribe(listener: SystemEventListener): () => void {
    this.listeners = [...this.listeners, listener];
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  get hasListeners(): boolean {
    return this.listeners.length > 0;
  }

  publish(event: SystemEvent): void {
    // copy-on-write list: a listener that unsubscribes during publish does not skip another
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        this.onListenerError(error, event);
      }
    }
  }
}
