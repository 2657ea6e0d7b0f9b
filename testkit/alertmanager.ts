/**
 * The real Alertmanager the alerting tests push to: ALERTMANAGER_URL, default the one
 * `infra/up.sh` starts on 127.0.0.1:9193. A missing one fails the tests with the command that
 * starts it, unless SKIP_INFRA_TESTS=1 (as for the other infra servers).
 */
export const skipAlertmanager = process.env.SKIP_INFRA_TESTS === "1";
export const alertmanagerUrl = (process.env.ALERTMANAGER_URL ?? "http://127.0.0.1:9193").replace(/\/+$/, "");

export async function requireAlertmanager(): Promise<void> {
  let ready = false;
  try {
    ready = (await fetch(`${alertmanagerUrl}/-/ready`, { signal: AbortSignal.timeout(2000) })).ok;
  } catch (cause) {
    throw new Error(
      `no Alertmanager at ${alertmanagerUrl}: start it with \`bash infra/up.sh alertmanager\``,
      { cause },
    );
  }
  if (!ready) throw new Error(`the Alertmanager at ${alertmanagerUrl} is not ready`);
}

/** the alerts Alertmanager holds whose labels match the filter matchers (e.g. `run="x"`) */
export async function alertmanagerAlerts(
  ...filters: string[]
): Promise<
  { labels: Record<string, string>; endsAt: string; fingerprint: string; status: { state: string } }[]
> {
  const query = filters.map((f) => `filter=${encodeURIComponent(f)}`).join("&");
  const response = await fetch(
    `${alertmanagerUrl}/api/v2/alerts?active=true&silenced=true&inhibited=true&${query}`,
  );
  if (!response.ok) throw new Error(`Alertmanager answered HTTP ${response.status}`);
  return (await response.json()) as Awaited<ReturnType<typeof alertmanagerAlerts>>;
}
