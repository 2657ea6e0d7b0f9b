import type { z } from "zod";
import { ErrorCodes, PlatformError } from "../../messages/errors.ts";

/** Parses learner parameters with a zod schema; a bad value is a CONFIG_INVALID error. */
export function parseParams<T extends z.ZodType>(schema: T, input: unknown, what: string): z.output<T> {
  const parsed = schema.safeParse(input ?? {});
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`,
    );
    throw new PlatformError(ErrorCodes.CONFIG_INVALID, `${what}: ${problems.join("; ")}`, {
      cause: parsed.error,
      details: { problems },
    });
  }
  return parsed.data;
}
