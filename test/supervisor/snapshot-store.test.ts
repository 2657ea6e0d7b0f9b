import { expect, test } from "bun:test";
import { SerializedSnapshotStore } from "../../supervisor/snapshot-store.ts";

const encoder = new TextEncoder();

// what an actor's snapshot may be, and what `load` gives back for it
const cases: [string, unknown, unknown][] = [
  ["plain JSON data comes back as an equal copy", { n: 1, list: [1, 2] }, { n: 1, list: [1, 2] }],
  [
    "bytes that start with '{' (a JSON state restored as stored) come back parsed",
    encoder.encode(JSON.stringify({ seen: 7 })),
    { seen: 7 },
  ],
  [
    "other bytes (an actor's own encoding) come back as the same bytes",
    Uint8Array.of(0x01, 2, 3, 0x7b),
    Uint8Array.of(0x01, 2, 3, 0x7b),
  ],
];
for (const [name, saved, loaded] of cases)
  test(`a serialized snapshot store: ${name}`, () => {
    const store = new SerializedSnapshotStore();
    store.save("kind/key", saved);
    expect(store.load("kind/key")).toEqual(loaded);
    // a copy each time: an actor that changes what it loaded does not change the snapshot
    expect(store.load("kind/key")).not.toBe(store.load("kind/key"));
    store.delete("kind/key");
    expect(store.load("kind/key")).toBeUndefined();
  });

test("a serialized snapshot store keeps an actor's bytes as bytes, not as JSON of their indices", () => {
  const store = new SerializedSnapshotStore();
  const bytes = Uint8Array.of(0x01, 0xff);
  store.save("window/x", bytes);
  const loaded = store.load("window/x");
  expect(loaded).toBeInstanceOf(Uint8Array);
  expect(loaded).toEqual(bytes);
});
