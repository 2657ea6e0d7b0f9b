import { Admin } from "@platformatic/kafka";
import type { Log } from "../../log/log.ts";

/**
 * Topic set-up and clean-up for the peer benchmark. The Log port has no deleteTopic (the
 * platform never deletes a topic), so the benchmark talks to the Kafka admin API directly here,
 * and only here.
 */
export class BenchTopics {
  private readonly admin: Admin;
  private readonly created = new Set<string>();

  constructor(brokers: readonly string[]) {
    this.admin = new Admin({ clientId: `peer-bench-admin-${process.pid}`, bootstrapBrokers: [...brokers] });
  }

  /** created through the Log port, which waits until the broker's metadata shows the topic */
  async create(log: Log, name: string, partitions: number): Promise<string> {
    this.created.add(name);
    await log.createTopic({ name, partitions });
    return name;
  }

  /**
   * Deletes every topic this object created except those in `keep`, plus the topics starting
   * with one of `appPrefixes` (Kafka Streams' internal changelog and repartition topics).
   */
  async deleteAll(appPrefixes: readonly string[] = [], keep: readonly string[] = []): Promise<void> {
    const all = await this.admin.listTopics({ includeInternals: false });
    const internal = all.filter((topic) => appPrefixes.some((prefix) => topic.startsWith(prefix)));
    const topics = [...new Set([...this.created, ...internal])].filter(
      (topic) => all.includes(topic) && !keep.includes(topic),
    );
    if (topics.length > 0) await this.admin.deleteTopics({ topics });
    for (const topic of topics) this.created.delete(topic);
  }

  async close(): Promise<void> {
    await this.admin.close();
  }
}
