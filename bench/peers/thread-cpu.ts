import { existsSync, readdirSync, readFileSync } from "node:fs";

/** CPU milliseconds (user + system) of each thread of this process by thread id, with its name */
export type ThreadCpu = Map<string, { readonly name: string; readonly ms: number }>;

/** this process's threads' CPU from /proc (10 ms ticks); empty off Linux */
export function threadCpu(): ThreadCpu {
  const threads: ThreadCpu = new Map();
  const dir = "/proc/self/task";
  if (!existsSync(dir)) return threads;
  for (const tid of readdirSync(dir)) {
    try {
      // fields after the parenthesised command name; utime and stime are the 12th and 13th of them
      const stat = readFileSync(`${dir}/${tid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const name = readFileSync(`${dir}/${tid}/comm`, "utf8").trim();
      threads.set(tid, { name, ms: (Number(fields[11]) + Number(fields[12])) * 10 });
    } catch (error) {
      // a thread that ended between the listing and the read has no CPU left to count
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
  }
  return threads;
}

/**
 * Each thread's CPU between two samples in nanoseconds per record, the busiest first, the
 * process's total last ("main 1,310, Worker 620, ... = 4,020 ns/record"); threads under 1 % of
 * the total are summed as "others". Where the node path's time goes, thread by thread.
 */
export function threadCpuPerRecord(before: ThreadCpu, after: ThreadCpu, records: number): string {
  const mainTid = String(process.pid);
  const spent: { name: string; ns: number }[] = [];
  for (const [tid, thread] of after) {
    const ms = thread.ms - (before.get(tid)?.ms ?? 0);
    spent.push({ name: tid === mainTid ? "main" : thread.name, ns: (ms * 1_000_000) / records });
  }
  const total = spent.reduce((sum, thread) => sum + thread.ns, 0);
  spent.sort((a, b) => b.ns - a.ns);
  const shown = spent.filter((thread) => thread.ns >= total / 100);
  const others = total - shown.reduce((sum, thread) => sum + thread.ns, 0);
  const fmt = (ns: number) => Math.round(ns).toLocaleString("en-US");
  return `${[...shown.map((t) => `${t.name} ${fmt(t.ns)}`), ...(others > 0 ? [`others ${fmt(others)}`] : [])].join(", ")} = ${fmt(total)} ns/record`;
}
