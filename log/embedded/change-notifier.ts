/**
 * Wakes long-polling consumers in this process the moment something they wait for changes
 * (a local append to a topic, a membership change in a group) instead of on their next
 * interval tick. Changes made by other processes are seen by the interval poll.
 */
export class ChangeNotifier {
  private readonly waiters = new Set<{ readonly subjects: ReadonlySet<string>; readonly wake: () => void }>();

  notify(subjects: Iterable<string>): void {
    for (const subject of subjects) {
      for (const waiter of this.waiters) if (waiter.subjects.has(subject)) waiter.wake();
    }
  }

  /** resolves on a change to one of the subjects, or after timeoutMs */
  wait(subjects: ReadonlySet<string>, timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const waiter = {
        subjects,
        wake: () => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          resolve();
        },
      };
      const timer = setTimeout(waiter.wake, Math.max(0, timeoutMs));
      this.waiters.add(waiter);
    });
  }

  /** wake everyone, e.g. when the log closes */
  wakeAll(): void {
    for (const waiter of this.waiters) waiter.wake();
  }
}

export const topicSubject = (topic: string) => `topic:${topic}`;
export const groupSubject = (groupId: string) => `group:${groupId}`;
