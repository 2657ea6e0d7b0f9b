/**
 * Wall-clock time in New York (US equities' session time), daylight saving included, from the
 * platform's time zone database. One formatter is built once: formatting is the costly part.
 */
const FORMAT = new Intl.DateTimeFormat("en-US", {
  timeZone: "America/New_York",
  hourCycle: "h23",
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  weekday: "short",
});

export interface NewYorkTime {
  /** YYYY-MM-DD */
  readonly date: string;
  /** minutes after midnight */
  readonly minuteOfDay: number;
  /** 0 = Sunday ... 6 = Saturday */
  readonly weekday: number;
}

const WEEKDAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

export function newYorkTime(epochMs: number): NewYorkTime {
  const parts: Record<string, string> = {};
  for (const part of FORMAT.formatToParts(epochMs)) parts[part.type] = part.value;
  return {
    date: `${parts.year}-${parts.month}-${parts.day}`,
    minuteOfDay: Number(parts.hour) * 60 + Number(parts.minute),
    weekday: WEEKDAYS[parts.weekday ?? ""] ?? 0,
  };
}

/** the New York calendar date of an instant: the trading session a bar belongs to */
export function newYorkDate(epochMs: number): string {
  return newYorkTime(epochMs).date;
}

/**
 * The UTC instant of a New York wall-clock time on a date: tries the two offsets New York uses
 * (EST -5 h, EDT -4 h) and keeps the one that reads back as the asked time.
 */
export function newYorkInstant(date: string, minuteOfDay: number): number {
  const midnightUtc = Date.parse(`${date}T00:00:00Z`);
  for (const offsetHours of [4, 5]) {
    const candidate = midnightUtc + minuteOfDay * 60_000 + offsetHours * 3_600_000;
    const back = newYorkTime(candidate);
    if (back.date === date && back.minuteOfDay === minuteOfDay) return candidate;
  }
  return midnightUtc + minuteOfDay * 60_000 + 5 * 3_600_000;
}
