/**
 * What was predicted for (model, key, time), kept until the label for that time arrives (the
 * next window closes) or the memory is full, whichever is first: a bounded map, oldest entries
 * evicted first, so labels that never come cost nothing past the bound.
 */
export interface RememberedPrediction {
  readonly served: string;
  /** version -> value, the served version's and each shadow's */
  readonly values: Map<string, number>;
  readonly arm: string;
}

export class PredictionMemory {
  private readonly entries = new Map<string, RememberedPrediction>();

  constructor(private readonly capacity: number) {}

  static key(model: string, key: string, at: number): string {
    return `${model}\u0000${key}\u0000${at}`;
  }

  remember(id: string, prediction: RememberedPrediction): void {
    this.entries.delete(id);
    this.entries.set(id, prediction);
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  get(id: string): RememberedPrediction | undefined {
    return this.entries.get(id);
  }

  /** the remembered prediction, forgotten: a label is joined once */
  take(id: string): RememberedPrediction | undefined {
    const found = this.entries.get(id);
    if (found) this.entries.delete(id);
    return found;
  }

  get size(): number {
    return this.entries.size;
  }
}
