import { afterAll } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EmbeddedOnlineStore } from "../../../features/online/embedded-online-store.ts";
import { onlineStoreContract } from "./online-store.contract.ts";

const dir = mkdtempSync(join(tmpdir(), "online-store-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

onlineStoreContract("embedded (bun:sqlite)", {
  open: async () => new EmbeddedOnlineStore(join(dir, "online.db")),
  reopen: async () => new EmbeddedOnlineStore(join(dir, "online.db")),
});
