import { createServer, type Server, type Socket } from "node:net";

/**
 * A tiny SMTP server that records the mail it receives: the receiving end of the email tests
 * (RFC 5321's minimal command set: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT; no TLS, no
 * AUTH). `failNext(n, code)` answers the next n DATA commands with a temporary failure, as a
 * busy server does, so retries can be seen.
 */
export interface ReceivedMail {
  readonly from: string;
  readonly to: readonly string[];
  /** the message as sent (headers and body), dot-stuffing undone */
  readonly data: string;
}

export interface SmtpSink {
  readonly url: string;
  readonly port: number;
  readonly received: ReceivedMail[];
  failNext(times: number, code?: number): void;
  close(): Promise<void>;
}

/** a session's bytes are capped: a test server needs no more */
const MAX_SESSION_BYTES = 10 * 1024 * 1024;

export async function startSmtpSink(): Promise<SmtpSink> {
  const received: ReceivedMail[] = [];
  let failures = 0;
  let failureCode = 451;
  const server: Server = createServer((socket) => session(socket));

  function session(socket: Socket) {
    let buffer = "";
    let total = 0;
    let from = "";
    let to: string[] = [];
    let inData = false;
    const reply = (line: string) => socket.write(`${line}\r\n`);
    reply("220 smtp-sink ESMTP ready");
    socket.setEncoding("utf8");
    socket.on("error", (error) => {
      // a client that hangs up mid-session is not the sink's failure; anything else is shown
      if ((error as NodeJS.ErrnoException).code !== "ECONNRESET") console.error("smtp-sink:", error);
      socket.destroy();
    });
    socket.on("data", (chunk: string) => {
      total += chunk.length;
      if (total > MAX_SESSION_BYTES) {
        reply("552 too much data");
        socket.destroy();
        return;
      }
      buffer += chunk;
      for (;;) {
        if (inData) {
          const end = buffer.indexOf("\r\n.\r\n");
          if (end < 0) return;
          const data = buffer.slice(2, Math.max(2, end)).replace(/^\.\./gm, ".");
          buffer = buffer.slice(end + 5);
          inData = false;
          if (failures > 0) {
            failures--;
            reply(`${failureCode} try again later`);
          } else {
            received.push({ from, to, data });
            reply("250 OK queued");
          }
          from = "";
          to = [];
          continue;
        }
        const eol = buffer.indexOf("\r\n");
        if (eol < 0) return;
        const line = buffer.slice(0, eol);
        buffer = buffer.slice(eol + 2);
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === "EHLO") reply("250-smtp-sink\r\n250-8BITMIME\r\n250 SMTPUTF8");
        else if (verb === "HELO") reply("250 smtp-sink");
        else if (verb === "MAIL") {
          from = /<([^>]*)>/.exec(line)?.[1] ?? "";
          reply("250 OK");
        } else if (verb === "RCPT") {
          to.push(/<([^>]*)>/.exec(line)?.[1] ?? "");
          reply("250 OK");
        } else if (verb === "DATA") {
          inData = true;
          reply("354 end with <CRLF>.<CRLF>");
          // a CRLF before the first line lets an empty message's "." end it too
          buffer = `\r\n${buffer}`;
        } else if (verb === "RSET") {
          from = "";
          to = [];
          reply("250 OK");
        } else if (verb === "NOOP") reply("250 OK");
        else if (verb === "QUIT") {
          reply("221 bye");
          socket.end();
          return;
        } else reply("502 command not implemented");
      }
    });
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `smtp://127.0.0.1:${port}`,
    port,
    received,
    failNext(times, code = 451) {
      failures = times;
      failureCode = code;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
