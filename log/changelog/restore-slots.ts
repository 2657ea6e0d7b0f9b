/**
 * At most `limit` restores run at once; the rest wait in call order. Restores share one thread
 * for decoding, so running all partitions at once makes every partition finish near the end;
 * a few at a time brings the first partitions back early while the fetches still overlap.
 */
export class RestoreSlots {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.running++;
    try {
      return await work();
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }
}
