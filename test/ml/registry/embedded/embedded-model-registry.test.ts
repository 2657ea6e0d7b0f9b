import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EmbeddedModelRegistry } from "../../../../ml/registry/embedded/embedded-model-registry.ts";
import { CHAMPION } from "../../../../ml/registry/model-registry.ts";
import { modelRegistryContract } from "../model-registry.contract.ts";

const dir = mkdtempSync(join(tmpdir(), "registry-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

modelRegistryContract(
  "embedded (bun:sqlite)",
  async () => EmbeddedModelRegistry.open({ dir }),
  async () => crypto.randomUUID().replaceAll("-", ""),
);

test("a registry that is reopened names the same champion: a restarted node serves what it served", async () => {
  const folder = mkdtempSync(join(tmpdir(), "registry-reopen-"));
  try {
    const first = EmbeddedModelRegistry.open({ dir: folder });
    await first.createModel("m");
    await first.createVersion("m", { runId: "r", source: "runs:/r/model" });
    await first.createVersion("m", { runId: "r", source: "runs:/r/model" });
    await first.setAlias("m", CHAMPION, "2", { by: "test", reason: "best" });
    await first.close();
    const second = EmbeddedModelRegistry.open({ dir: folder });
    expect((await second.versionByAlias("m", CHAMPION))?.version).toBe("2");
    expect((await second.transitions("m")).length).toBe(1);
    await second.close();
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});
