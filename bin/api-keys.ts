/**
 * `bun run keys`: create, list and revoke the API keys of a running node, through its admin routes
 * (so every change is authorized and audited like any other):
 *
 *   bun run keys create --name grafana --role viewer
 *   bun run keys list
 *   bun run keys revoke <id>
 *
 * The node is API_URL (default http://127.0.0.1:$PORT, PORT 3000) or --url. The credential is
 * API_KEY, else ADMIN_API_KEY, sent as a bearer token; with none, a node in development mode
 * (no credential configured, called from its own machine) lets the first admin key be created.
 * A created key is printed once; the node keeps only its hash.
 */
import { ROLES } from "../api/gateway/roles.ts";

interface Args {
  readonly command: string | undefined;
  readonly positional: string[];
  readonly flags: Record<string, string>;
}

function parseArgs(argv: readonly string[]): Args {
  const flags: Record<string, string> = {};
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith("--")) {
      positional.push(arg);
      continue;
    }
    const [name, inline] = arg.slice(2).split("=", 2) as [string, string | undefined];
    const value = inline ?? argv[++i];
    if (value === undefined) fail(`--${name} needs a value`);
    flags[name] = value;
  }
  return { command: positional.shift(), positional, flags };
}

function fail(message: string): never {
  console.error(`error: ${message}`);
  process.exit(1);
}

const USAGE = `usage: bun run keys create --name <name> --role <${ROLES.join("|")}>
       bun run keys list
       bun run keys revoke <id>
options: --url <node API URL> (or API_URL); credential: API_KEY or ADMIN_API_KEY`;

async function call(base: string, method: string, path: string, body?: unknown): Promise<unknown> {
  const credential = process.env.API_KEY || process.env.ADMIN_API_KEY;
  let response: Response;
  try {
    response = await fetch(`${base.replace(/\/$/, "")}/api/v1${path}`, {
      method,
      headers: {
        ...(credential ? { authorization: `Bearer ${credential}` } : {}),
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (error) {
    fail(`cannot reach ${base} (${error instanceof Error ? error.message : "unknown error"})`);
  }
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    fail(`${response.status} from ${base}: not a JSON answer`);
  }
  if (!response.ok) {
    const { code, message } = (parsed as { error?: { code?: string; message?: string } }).error ?? {};
    fail(`${response.status} ${code ?? ""}: ${message ?? "request refused"}`);
  }
  return parsed;
}

interface KeyInfo {
  id: string;
  name: string;
  role: string;
  created_at: number;
  revoked_at: number | null;
}

const line = (k: KeyInfo) =>
  `${k.id}  ${k.role.padEnd(8)}  ${new Date(k.created_at).toISOString()}  ${k.revoked_at === null ? "active " : "revoked"}  ${k.name}`;

const args = parseArgs(process.argv.slice(2));
const base = args.flags.url ?? process.env.API_URL ?? `http://127.0.0.1:${process.env.PORT ?? 3000}`;
switch (args.command) {
  case "create": {
    const { name, role } = args.flags;
    if (!name || !role || !(ROLES as readonly string[]).includes(role)) fail(USAGE);
    const created = (await call(base, "POST", "/admin/api-keys", { name, role })) as {
      key: string;
      api_key: KeyInfo;
    };
    console.log(line(created.api_key));
    console.log(`\n${created.key}\n\nThis key is shown once: store it now (the node keeps only its hash).`);
    break;
  }
  case "list": {
    const { api_keys } = (await call(base, "GET", "/admin/api-keys")) as { api_keys: KeyInfo[] };
    if (api_keys.length === 0) console.log("no API keys");
    for (const key of api_keys) console.log(line(key));
    break;
  }
  case "revoke": {
    const id = args.positional[0];
    if (!id) fail(USAGE);
    const { api_key } = (await call(base, "DELETE", `/admin/api-keys/${encodeURIComponent(id)}`)) as {
      api_key: KeyInfo;
    };
    console.log(line(api_key));
    break;
  }
  default:
    fail(USAGE);
}
