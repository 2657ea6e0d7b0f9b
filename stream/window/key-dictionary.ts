/**
 * Keys interned to dense integer ids, so per-key state lives in typed arrays indexed by id.
 * Ids are never reused within one operator's life; a snapshot keeps only keys with open windows.
 *
 * The map from key to id is made with the second key: a per-sensor window actor's operator
 * only ever sees its own key, and at 100k sensors a Map and an array each were 200k objects
 * the garbage collector walked on every full collection.
 */
export class KeyDictionary {
  private ids: Map<string, number> | undefined;
  private first: string | undefined;
  private keys: string[] | undefined;

  intern(key: string): number {
    if (this.first === undefined) {
      this.first = key;
      return 0;
    }
    if (key === this.first) return 0;
    const ids = this.ids ?? this.mapFirst();
    let id = ids.get(key);
    if (id === undefined) {
      id = this.size;
      this.keys!.push(key);
      ids.set(key, id);
    }
    return id;
  }

  /** the id of a key already interned; undefined otherwise */
  idOf(key: string): number | undefined {
    if (key === this.first) return 0;
    return this.ids?.get(key);
  }

  keyOf(id: number): string {
    return (id === 0 ? this.first : this.keys?.[id])!;
  }

  get size(): number {
    return this.keys?.length ?? (this.first === undefined ? 0 : 1);
  }

  private mapFirst(): Map<string, number> {
    const first = this.first!;
    this.keys = [first];
    this.ids = new Map([[first, 0]]);
    return this.ids;
  }
}
