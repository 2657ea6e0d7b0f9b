import { BoundedMap } from "../../messages/bounded-map.ts";

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
  private readonly entries: BoundedMap<string, RememberedPrediction>;

  constructor(capacity: number) {
    this.entries = new BoundedMap(capacity);
  }

  static key(model: string, key: string, at: number): string {
    return `${model}\u0000${key}\u0000${at}`;
  }

  /** a prediction made again for the same id (a replay) is the newest again */
  remember(id: string, prediction: RememberedPrediction): void {
    this.entries.setNewest(id, prediction);
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
