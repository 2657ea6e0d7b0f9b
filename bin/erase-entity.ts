/**
 * A deletion request from the command line, run against the log the node uses (KAFKA_BROKERS with
 * KAFKA_SASL_* / KAFKA_TLS*, else the embedded log in DATA_DIR), audited in platform.audit:
 *
 *   bun bin/erase-entity.ts sensor traffic_7 --by ops@city --app city-platform
 *
 * Prints the report as JSON and exits 0 when every store erased what it held, 2 when the request
 * is partial (run it again: erasers are idempotent). This reaches the log only: on a running node,
 * `POST /api/v1/admin/erasures` (admin) reaches every store the node writes (the log, the
 * time-series store, the lake, the online features), from the process whose sinks write them,
 * which the QuestDB rewrite needs to lose no concurrent write (security/entity-eraser.ts).
 */
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { AuditLog } from "../api/gateway/audit-log.ts";
import { openLog } from "../log/index.ts";
import { kafkaSecurityFromEnv } from "../log/kafka/kafka-security.ts";
import { ENTITY_KINDS, type EntityKind } from "../security/entity-eraser.ts";
import { runErasure } from "../security/erasure-workflow.ts";
import { createLogEntityEraser } from "../security/log-entity-eraser.ts";
import { platformErasureTargets } from "../security/platform-erasure-targets.ts";

function fail(message: string): never {
  console.error(`error: ${message}`);
  console.error("usage: bun bin/erase-entity.ts <sensor|user> <id> --by <who> [--app <application id>]");
  process.exit(1);
}

const [kind, id, ...rest] = process.argv.slice(2);
const flags = new Map<string, string>();
for (let i = 0; i < rest.length; i += 2) flags.set(rest[i]!.replace(/^--/, ""), rest[i + 1] ?? "");
if (!ENTITY_KINDS.includes(kind as EntityKind)) fail(`the kind is one of ${ENTITY_KINDS.join(", ")}`);
if (!id || !/^[A-Za-z0-9_.@-]{1,128}$/.test(id))
  fail("the id is 1-128 letters, digits, '_', '.', '@' or '-'");
const requestedBy = flags.get("by");
if (!requestedBy) fail("--by names who asked for the erasure");
const applicationId = flags.get("app") || process.env.APPLICATION_ID || "city-platform";

const brokers = process.env.KAFKA_BROKERS?.trim();
const log = brokers
  ? await openLog({
      kind: "kafka",
      brokers: brokers.split(",").map((b) => b.trim()),
      clientId: "erase-entity",
      security: kafkaSecurityFromEnv(process.env),
    })
  : await openLog({ kind: "embedded", path: join(process.env.DATA_DIR || ".data", "log.db") });
try {
  const erasers = [createLogEntityEraser(log, platformErasureTargets(applicationId))];
  const report = await runErasure(
    {
      requestId: randomUUID(),
      entity: { kind: kind as EntityKind, id },
      requestedBy,
      requestedAt: Date.now(),
    },
    erasers,
    await AuditLog.open(log),
  );
  console.log(JSON.stringify(report, null, 2));
  process.exitCode = report.complete ? 0 : 2;
} finally {
  await log.close();
}
