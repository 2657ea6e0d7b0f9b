/**
 * How a dashboard page gets its data: the node's summary polled every second
 * (`/api/dashboard/summary`, computed from its metrics, live view and health), and the `/ws`
 * feeds for what happens in between. A feed message is handed over at once; the views draw at
 * most once per animation frame, so a burst of messages costs one draw.
 */
import { dataDrawn, recordLag, stats } from "./page-stats.js";

const SUMMARY_URL = "/api/dashboard/summary";
const CREDENTIAL_KEY = "platform-api-key";

/**
 * A node with API keys answers 401 without one: the page then asks for a key (viewer or above),
 * keeps it for this tab only (sessionStorage, never a cookie: no other site can make the browser
 * send it) and sends it as a bearer token, and on /ws as `access_token` (a browser cannot set
 * headers on a WebSocket).
 */
const credential = () => sessionStorage.getItem(CREDENTIAL_KEY);
const authHeaders = () => (credential() ? { authorization: `Bearer ${credential()}` } : {});

function askForCredential(status, retry) {
  if (status.querySelector("form")) return;
  status.textContent = "";
  status.className = "status offline";
  const form = document.createElement("form");
  const input = Object.assign(document.createElement("input"), {
    type: "password",
    placeholder: "API key (viewer or above)",
    autocomplete: "off",
  });
  const button = Object.assign(document.createElement("button"), { type: "submit", textContent: "use key" });
  form.append("This node needs an API key: ", input, button);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (input.value.trim()) sessionStorage.setItem(CREDENTIAL_KEY, input.value.trim());
    form.remove();
    retry();
  });
  status.append(form);
}

/** `onUnreachable` runs for each poll the node did not answer (an availability KPI counts it) */
export function pollSummary(onSummary, { intervalMs = 1000, onUnreachable = () => {} } = {}) {
  let previous = null;
  const status = document.getElementById("node-status");
  const poll = async () => {
    try {
      const response = await fetch(SUMMARY_URL, { cache: "no-store", headers: authHeaders() });
      if (response.status === 401 || response.status === 403) {
        sessionStorage.removeItem(CREDENTIAL_KEY);
        askForCredential(status, () => undefined);
        return;
      }
      if (!response.ok) throw new Error(`summary answered ${response.status}`);
      const summary = await response.json();
      onSummary(summary, previous);
      previous = summary;
      recordLag(stats.summaryLagMs, Date.now() - summary.at);
      dataDrawn();
      showStatus(status, summary);
    } catch (error) {
      stats.summaryFailures++;
      onUnreachable();
      status.textContent = `node unreachable (${error instanceof Error ? error.message : "error"}); retrying`;
      status.className = "status offline";
    } finally {
      setTimeout(poll, intervalMs);
    }
  };
  void poll();
}

function showStatus(element, summary) {
  const node = summary.node ?? {};
  element.textContent = `${node.applicationId ?? "node"} · ${summary.health.status} · ${summary.totals.workers} workers · model ${node.modelVersion ?? "?"} · ${new Date(summary.at).toLocaleTimeString()}`;
  element.className = `status ${summary.health.status}`;
}

/** per-second rates of the named totals between two summaries */
export function ratesOf(summary, previous, names) {
  const out = {};
  const seconds = previous ? (summary.at - previous.at) / 1000 : 0;
  for (const name of names)
    out[name] = previous && seconds > 0 ? Math.max(0, (summary.totals[name] - previous.totals[name]) / seconds) : null;
  return out;
}

/**
 * Subscribe to feeds on /ws; reconnects after a drop. `onMessage(feed, data)` runs per message.
 * Drops are counted: the node's `lagged` notices and gaps in a feed's sequence numbers.
 */
export function followFeeds(feeds, onMessage) {
  const lastSeq = new Map();
  const connect = () => {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const token = credential();
    const query = token ? `?access_token=${encodeURIComponent(token)}` : "";
    const socket = new WebSocket(`${scheme}://${location.host}/ws${query}`);
    socket.addEventListener("open", () => socket.send(JSON.stringify({ op: "subscribe", feeds })));
    socket.addEventListener("message", (event) => {
      const message = JSON.parse(event.data);
      if (message.type === "lagged") {
        stats.feedDropped += message.dropped;
        return;
      }
      if (message.type === "error" || typeof message.feed !== "string") return;
      const before = lastSeq.get(message.feed);
      if (before !== undefined && message.seq > before + 1) stats.feedDropped += message.seq - before - 1;
      lastSeq.set(message.feed, message.seq);
      stats.feedMessages++;
      onMessage(message.feed, message.data);
    });
    // a closed feed (node restarting, evicted as too slow) comes back; sequence numbers restart
    socket.addEventListener("close", () => {
      lastSeq.clear();
      setTimeout(connect, 1000);
    });
  };
  connect();
}

/** run `draw` at most once per animation frame, however often `request` is called */
export function frameScheduler(draw) {
  let pending = false;
  return () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      stats.frames++;
      draw();
    });
  };
}
