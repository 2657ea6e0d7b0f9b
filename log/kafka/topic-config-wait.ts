import { ErrorCodes, PlatformError } from "../../messages/errors.ts";

/**
 * Waiting until a topic's altered configs show.
 *
 * IncrementalAlterConfigs returns once the controller has taken the change; the broker that
 * answers DescribeConfigs learns it from the metadata log (KRaft) a moment later. A caller
 * that reads the topic's configs right after the platform reconciled them must read what was
 * asked for (a test read "delete" once), so the reconcile returns only once a describe shows
 * every change, or fails with LOG_TOPIC_CONFIG_TIMEOUT after `timeoutMs`: a broker that never
 * shows the change is not one to keep starting on.
 */
export interface ConfigChange {
  readonly name: string;
  readonly value: string;
}

export interface ConfigShownWait {
  /** how long the broker has to show the change; the describes in flight finish first */
  readonly timeoutMs: number;
  /** pause between two describes */
  readonly pollMs: number;
  /** injected for the tests: a clock and a sleep they control */
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** resolves with the number of describes it took; a describe that throws ends the wait with its error */
export async function awaitConfigsShown(
  topic: string,
  changes: readonly ConfigChange[],
  describe: () => Promise<ReadonlyMap<string, { readonly value: string | null }>>,
  wait: ConfigShownWait,
): Promise<number> {
  const now = wait.now ?? Date.now;
  const sleep = wait.sleep ?? ((ms: number) => Bun.sleep(ms));
  const deadline = now() + wait.timeoutMs;
  for (let describes = 1; ; describes++) {
    const shown = await describe();
    const missing = changes.filter((change) => shown.get(change.name)?.value !== change.value);
    if (missing.length === 0) return describes;
    if (now() >= deadline)
      throw new PlatformError(
        ErrorCodes.LOG_TOPIC_CONFIG_TIMEOUT,
        `the configs of topic ${topic} were set but the broker did not show them within ${wait.timeoutMs} ms`,
        {
          details: {
            topic,
            configs: missing.map((change) => change.name),
            describes,
          },
        },
      );
    await sleep(wait.pollMs);
  }
}
