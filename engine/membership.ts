import { hostname } from "node:os";
import { z } from "zod";
import type { Log } from "../log/log.ts";
import { ErrorCodes, PlatformError } from "../messages/errors.ts";
import { partitionFor } from "../messages/murmur2.ts";

/**
 * Who owns which partition, across the nodes of one application. Kafka's group coordinator
 * decides the assignment; each node only announces what it was given, as a record keyed by its
 * member id in the compacted `<app>.members` topic, and follows the topic to know the others.
 * A partition's owner is the newest announcement that claims it (a node that died leaves a
 * stale record, superseded as soon as the survivor announces the partitions it took over).
 */
export const MemberAnnouncement = z.object({
  member: z.string(),
  api: z.string(),
  partitions: z.array(z.number().int().nonnegative()),
  at: z.number(),
});
export type MemberAnnouncement = z.infer<typeof MemberAnnouncement>;

export interface Membership {
  readonly member: string;
  announce(partitions: readonly number[]): Promise<void>;
  ownerOf(partition: number): MemberAnnouncement | undefined;
  ownerOfKey(key: string): { partition: number; owner: MemberAnnouncement | undefined; local: boolean };
  members(): MemberAnnouncement[];
  /** Counters for /metrics. */
  stats(): MembershipStats;
  stop(): Promise<void>;
}

export interface MembershipStats {
  /** Records of the members topic that were not a valid announcement (skipped, not applied). */
  readonly malformedAnnouncements: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export async function startMembership(options: {
  log: Log;
  applicationId: string;
  apiUrl: string;
  partitions: number;
  pollMs?: number;
  /** reading the members topic failed (the follower goes on) */
  onReadError?: (error: unknown) => void;
  /**
   * the first malformed announcement (later ones are only counted, so a topic full of them
   * cannot flood the log); default: console.warn
   */
  onFirstMalformed?: (error: PlatformError) => void;
}): Promise<Membership> {
  const { log } = options;
  const topic = `${options.applicationId}.members`;
  await log.createTopic({ name: topic, partitions: 1, compacted: true });
  const member = `${hostname()}-${process.pid}`;
  const known = new Map<string, MemberAnnouncement>();
  let next = 0;
  let running = true;
  let mine: readonly number[] = [];
  let malformedAnnouncements = 0;

  // A record another writer (an older version, a stray producer) put on the topic must not stop
  // the follower: it is skipped, counted, and reported once.
  const skipMalformed = (key: string, offset: number, cause: unknown) => {
    malformedAnnouncements++;
    if (malformedAnnouncements > 1) return;
    const error = new PlatformError(
      ErrorCodes.DECODE_FAILED,
      `a record of ${topic} at offset ${offset} (member ${key}) is not a member announcement; skipped (further ones are only counted)`,
      { cause },
    );
    if (options.onFirstMalformed) options.onFirstMalformed(error);
    else console.warn(error.message);
  };

  const read = async () => {
    for (const record of await log.read({ topic, partition: 0 }, { fromOffset: next, maxRecords: 1000 })) {
      next = record.offset + 1;
      if (record.key === null) continue;
      if (record.value === null) {
        known.delete(record.key);
        continue;
      }
      let json: unknown;
      try {
        json = JSON.parse(decoder.decode(record.value));
      } catch (cause) {
        skipMalformed(record.key, record.offset, cause);
        continue;
      }
      const parsed = MemberAnnouncement.safeParse(json);
      if (parsed.success) known.set(record.key, parsed.data);
      else skipMalformed(record.key, record.offset, parsed.error);
    }
  };
  await read();
  const follower = (async () => {
    while (running) {
      await Bun.sleep(options.pollMs ?? 500);
      // a broker that is away (restarting) is read again at the next poll
      if (running) await read().catch((error: unknown) => options.onReadError?.(error));
    }
  })();

  const ownerOf = (partition: number) => {
    let owner: MemberAnnouncement | undefined;
    for (const announcement of known.values())
      if (announcement.partitions.includes(partition) && (!owner || announcement.at > owner.at))
        owner = announcement;
    return owner;
  };

  return {
    member,
    async announce(partitions) {
      mine = partitions;
      const announcement: MemberAnnouncement = {
        member,
        api: options.apiUrl,
        partitions: [...partitions],
        at: Date.now(),
      };
      known.set(member, announcement);
      await log.append([{ topic, key: member, value: encoder.encode(JSON.stringify(announcement)) }]);
    },
    ownerOf,
    ownerOfKey(key) {
      const partition = partitionFor(key, options.partitions);
      return { partition, owner: ownerOf(partition), local: mine.includes(partition) };
    },
    members: () => [...known.values()],
    stats: () => ({ malformedAnnouncements }),
    async stop() {
      running = false;
      await follower;
      // leaving: the survivors announce what they take over
      await log.append([{ topic, key: member, value: null }]);
    },
  };
}
