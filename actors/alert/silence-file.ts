import { readFileSync } from "node:fs";
import { rename, writeFile } from "node:fs/promises";
import { z } from "zod";
import { Silence } from "../../messages/alert.ts";
import { ErrorCodes, PlatformError } from "../../messages/errors.ts";

export interface SilenceFile {
  /** the silences kept when the node last ran (none without a file) */
  readonly restored: Silence[];
  /** keeps the whole set (the silences' onChange) */
  save(all: readonly Silence[]): void;
  /** the last write, rejected if it failed: the API answers a change only once it is on disk */
  flushed(): Promise<void>;
}

/**
 * The silences file: the whole set, written to a temporary file and renamed over the old one
 * (a crash mid-write leaves the previous set), one write at a time, the latest set winning.
 * An unreadable file fails the start: silently dropping silences would page people.
 */
export function silenceFile(path: string): SilenceFile {
  let restored: Silence[] = [];
  let text: string | undefined;
  try {
    text = readFileSync(path, "utf8");
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code !== "ENOENT")
      throw new PlatformError(ErrorCodes.CONFIG_INVALID, `cannot read the silences file ${path}`, { cause });
  }
  if (text !== undefined) {
    const parsed = z.array(Silence).safeParse(safeJson(text));
    if (!parsed.success)
      throw new PlatformError(
        ErrorCodes.CONFIG_INVALID,
        `the silences file ${path} is damaged; move it away to start without silences`,
        {
          cause: parsed.error,
        },
      );
    restored = parsed.data;
  }
  let latest: readonly Silence[] | undefined;
  let writing: Promise<void> = Promise.resolve();
  /** the last write, rejected if it failed: the API answers a change only once it is on disk */
  let lastWrite: Promise<void> = Promise.resolve();
  const writeLatest = async () => {
    const all = latest;
    if (all === undefined) return;
    latest = undefined;
    const tmp = `${path}.tmp`;
    await writeFile(tmp, JSON.stringify(all));
    await rename(tmp, path);
  };
  return {
    restored,
    save(all: readonly Silence[]) {
      latest = all;
      lastWrite = writing.then(writeLatest);
      writing = lastWrite.catch((cause: unknown) => {
        console.error(`alert silences: cannot write ${path}:`, cause);
      });
    },
    flushed: () => lastWrite,
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    return new PlatformError(ErrorCodes.MALFORMED_JSON, "not JSON", { cause });
  }
}
