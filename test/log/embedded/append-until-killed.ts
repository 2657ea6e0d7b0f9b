/**
 * Child process for the kill -9 durability test: appends batches to the embedded log forever
 * and prints "acked <batch>" after each append resolves. The parent kills it mid-way.
 */
import { openEmbeddedLog } from "../../../log/embedded/index.ts";

const [path, topic, batchSizeText, synchronous, checkpoints] = process.argv.slice(2);
const batchSize = Number(batchSizeText);
const log = openEmbeddedLog({
  path: path!,
  maintenanceIntervalMs: 0,
  synchronous: synchronous === "NORMAL" ? "NORMAL" : "FULL",
  checkpoints: checkpoints === "background" ? "background" : "inline",
});
const encoder = new TextEncoder();
// with a checkpoint thread, the kill should land while it runs, not before it started
while (checkpoints === "background" && log.walCheckpointer()?.running !== true) await Bun.sleep(5);
for (let batch = 0; ; batch++) {
  const records = Array.from({ length: batchSize }, (_, i) => ({
    topic: topic!,
    key: `sensor_${i % 7}`,
    value: encoder.encode(`${batch}:${i}`),
  }));
  await log.append(records);
  process.stdout.write(`acked ${batch}\n`);
}
