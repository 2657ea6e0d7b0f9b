import { expect, test } from "bun:test";
import { InMemoryBacking, InMemoryStateStore } from "../../../log/changelog/in-memory-state-store.ts";
import { ErrorCodes } from "../../../messages/errors.ts";
import { stateStoreContract } from "./state-store.contract.ts";

stateStoreContract("in-memory", async () => ({
  async open({ partitions, onCorrupt, codec }) {
    const backing = new InMemoryBacking();
    const options = {
      partitions,
      backing,
      ...(onCorrupt === undefined ? {} : { onCorrupt }),
      ...(codec === undefined ? {} : { codec }),
    };
    return {
      store: new InMemoryStateStore(options),
      reopen: async () => new InMemoryStateStore(options),
      async writeRaw(partition, key, value) {
        backing.write(partition, key, value);
      },
      compact: async () => true,
    };
  },
  async cleanup() {},
}));

test("an in-memory store without partitions is CONFIG_INVALID", () => {
  expect(() => new InMemoryStateStore({ partitions: 0 })).toThrow(ErrorCodes.CONFIG_INVALID);
});

test("a state mutated after put is stored as it was at the put", async () => {
  const store = new InMemoryStateStore({ partitions: 1 });
  const state = { count: 1 };
  store.put(0, "k", state);
  state.count = 2;
  await store.flush();
  expect(await store.restore([0])).toEqual(new Map([["k", { count: 1 }]]));
});
