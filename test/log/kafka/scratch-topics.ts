import { Admin } from "@platformatic/kafka";
import { brokers } from "../../../testkit/kafka-broker.ts";

/**
 * Topics and consumer groups a test made under a unique name on the shared broker, removed when
 * it is done: each run of the suite would otherwise leave its own behind (partitions, segment
 * files and group offsets that nothing reads again). A failure to remove them fails the test's
 * teardown rather than passing unseen.
 */
export async function removeScratch(scratch: {
  readonly topics: readonly string[];
  readonly groups?: readonly string[];
}): Promise<void> {
  const admin = new Admin({ clientId: "test-scratch-admin", bootstrapBrokers: [...brokers] });
  try {
    if ((scratch.groups ?? []).length > 0) await admin.deleteGroups({ groups: [...scratch.groups!] });
    if (scratch.topics.length > 0) await admin.deleteTopics({ topics: [...scratch.topics] });
  } finally {
    await admin.close();
  }
}
