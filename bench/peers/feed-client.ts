/**
 * A WebSocket feed client in its own process, for latency benchmarks: it subscribes to the feeds
 * named on the command line and prints, per message, `<symbol>|<timeframe>|<start> <epoch ms>`
 * with the receive time (performance.timeOrigin + now, the same machine clock as the sender's).
 *
 *   bun bench/peers/feed-client.ts ws://127.0.0.1:PORT/ bars
 */
const [url, ...feeds] = process.argv.slice(2);
if (!url) {
  console.error("usage: bun bench/peers/feed-client.ts <ws url> <feed...>");
  process.exit(2);
}
const socket = new WebSocket(url);
let pending: string[] = [];
socket.onopen = () => {
  socket.send(JSON.stringify({ op: "subscribe", feeds }));
  console.log("ready");
};
socket.onmessage = (event) => {
  const at = performance.timeOrigin + performance.now();
  const message = JSON.parse(String(event.data)) as {
    data?: { symbol?: string; timeframe?: string; start?: number };
  };
  const bar = message.data;
  if (bar?.symbol === undefined) return;
  pending.push(`${bar.symbol}|${bar.timeframe}|${bar.start} ${at.toFixed(3)}`);
};
// printed in batches so the client's own writes do not sit between a message and its timestamp
setInterval(() => {
  if (pending.length === 0) return;
  console.log(pending.join("\n"));
  pending = [];
}, 200);
socket.onclose = () => process.exit(0);
