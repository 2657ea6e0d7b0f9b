/**
 * Keys interned to dense integer ids, so per-key state lives in typed arrays indexed by id.
 * Ids are never reused within one operator's life; a snapshot keeps only keys with open windows.
 */
export class KeyDictionary {
  private readonly ids = new Map<string, number>();
  private readonly keys: string[] = [];

  intern(key: string): number {
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.keys.length;
      this.keys.push(key);
      this.ids.set(key, id);
    }
    return id;
  }

  /** the id of a key already interned; undefined otherwise */
  idOf(key: string): number | undefined {
    return this.ids.get(key);
  }

  keyOf(id: number): string {
    return this.keys[id]!;
  }

  get size(): number {
    return this.keys.length;
  }
}
