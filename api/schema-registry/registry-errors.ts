import { ErrorCodes, isPlatformError } from "../../messages/errors.ts";

/**
 * Confluent Schema Registry's error bodies: `{error_code, message}`, where a five-digit code's
 * first three digits are the HTTP status (40401 subject not found -> 404) and 409 stands alone
 * for an incompatible schema. Core errors carry the exact code in `details.registryErrorCode`;
 * the table below covers those that do not.
 */
export interface RegistryErrorBody {
  readonly error_code: number;
  readonly message: string;
}

const BY_PLATFORM_CODE: Readonly<Record<string, number>> = {
  [ErrorCodes.SUBJECT_NOT_FOUND]: 40401,
  [ErrorCodes.VERSION_NOT_FOUND]: 40402,
  [ErrorCodes.UNKNOWN_SCHEMA]: 40403,
  [ErrorCodes.SCHEMA_INCOMPATIBLE]: 409,
  [ErrorCodes.SCHEMA_INVALID]: 42201,
  [ErrorCodes.CONFIG_INVALID]: 42203,
  // Confluent's "operation not permitted"
  [ErrorCodes.SUBJECT_PROTECTED]: 42205,
};

export function httpStatusOf(errorCode: number): number {
  return errorCode < 1000 ? errorCode : Math.floor(errorCode / 100);
}

export function registryErrorBody(error: unknown): RegistryErrorBody {
  // An unexpected error's message is internal (a stack overflow, a driver's text): the caller
  // gets Confluent's generic store error, the operator gets the error in the server's log.
  if (!isPlatformError(error)) return { error_code: 50001, message: "Error in the backend data store" };
  const detailed = error.details?.registryErrorCode;
  const code = typeof detailed === "number" ? detailed : (BY_PLATFORM_CODE[error.code] ?? 50001);
  // PlatformError prefixes its code; Confluent clients show the message as it is
  const message = error.message.startsWith(`${error.code}: `)
    ? error.message.slice(error.code.length + 2)
    : error.message;
  return { error_code: code, message };
}
