/**
 * Child process for the cross-process group test: one member of a consumer group on a shared
 * embedded log file. Prints its assignment as JSON whenever it changes, and the offsets of
 * records it receives; the parent kills it with SIGKILL or SIGTERM.
 */
import { openEmbeddedLog } from "../../../log/embedded/index.ts";

const [path, topic, groupId] = process.argv.slice(2);
const log = openEmbeddedLog({
  path: path!,
  heartbeatIntervalMs: 100,
  sessionTimeoutMs: 1500,
  maintenanceIntervalMs: 0,
});
const consumer = log.consumer({ groupId: groupId!, topics: [topic!], memberId: "child" });
let stopping = false;
process.on("SIGTERM", () => {
  stopping = true;
});
let printed = "";
while (!stopping) {
  const records = await consumer.poll({ timeoutMs: 50 });
  const assignment = JSON.stringify(consumer.assignment().map((tp) => tp.partition));
  if (assignment !== printed) {
    printed = assignment;
    process.stdout.write(`assignment ${assignment}\n`);
  }
  for (const record of records) process.stdout.write(`record ${record.partition}:${record.offset}\n`);
}
await log.close();
process.stdout.write("closed\n");
