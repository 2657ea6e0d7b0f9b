import { newYorkInstant, newYorkTime } from "../../../stream/indicators/new-york-time.ts";

/**
 * The NYSE trading calendar: which days trade, and when each session opens and closes, in New
 * York time (the regular session 9:30-16:00, 13:00 on a half day). Rules as NYSE Rule 7.2 and its
 * yearly holiday notices apply them:
 * - closed on New Year's Day, Martin Luther King Jr. Day (3rd Monday of January), Washington's
 *   Birthday (3rd Monday of February), Good Friday, Memorial Day (last Monday of May), Juneteenth
 *   (from 2022), Independence Day, Labor Day (1st Monday of September), Thanksgiving (4th Thursday
 *   of November) and Christmas; a holiday on a Saturday is observed the Friday before, on a
 *   Sunday the Monday after, except New Year's Day on a Saturday, which is not observed (the
 *   year-end close stays open);
 * - closed on the national days of mourning the exchange observed: 2018-12-05 (George H. W.
 *   Bush) and 2025-01-09 (Jimmy Carter);
 * - half days (13:00 close): the day after Thanksgiving, July 3 when it falls Monday-Thursday,
 *   and December 24 when it falls Monday-Thursday.
 * The rules hold for any year; the special closures are known for 2016-2027.
 */
export interface TradingSession {
  /** YYYY-MM-DD, New York */
  readonly date: string;
  readonly openMs: number;
  readonly closeMs: number;
  readonly halfDay: boolean;
}

const SPECIAL_CLOSURES = new Set(["2018-12-05", "2025-01-09"]);
const OPEN_MINUTE = 9 * 60 + 30;
const CLOSE_MINUTE = 16 * 60;
const HALF_DAY_CLOSE_MINUTE = 13 * 60;

const pad = (n: number) => String(n).padStart(2, "0");
const iso = (y: number, m: number, d: number) => `${y}-${pad(m)}-${pad(d)}`;
const weekdayOf = (y: number, m: number, d: number) => new Date(Date.UTC(y, m - 1, d)).getUTCDay();

/** the n-th (1-based) `weekday` of a month, or the last one with n = -1 */
function nthWeekday(y: number, m: number, weekday: number, n: number): string {
  if (n > 0) {
    const first = weekdayOf(y, m, 1);
    return iso(y, m, 1 + ((weekday - first + 7) % 7) + (n - 1) * 7);
  }
  const days = new Date(Date.UTC(y, m, 0)).getUTCDate();
  const last = weekdayOf(y, m, days);
  return iso(y, m, days - ((last - weekday + 7) % 7));
}

/** Easter Sunday (anonymous Gregorian algorithm, Meeus/Jones/Butcher) */
function easter(y: number): { m: number; d: number } {
  const a = y % 19;
  const b = Math.floor(y / 100);
  const c = y % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  const day = ((h + l - 7 * m + 114) % 31) + 1;
  return { m: month, d: day };
}

function shiftDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

/** a fixed-date holiday as observed: Saturday -> Friday, Sunday -> Monday */
function observed(y: number, m: number, d: number): string {
  const weekday = weekdayOf(y, m, d);
  if (weekday === 6) return shiftDays(iso(y, m, d), -1);
  if (weekday === 0) return shiftDays(iso(y, m, d), 1);
  return iso(y, m, d);
}

const holidayCache = new Map<number, ReadonlySet<string>>();

/** the NYSE full-day holidays of a year (observed dates) */
export function nyseHolidays(year: number): ReadonlySet<string> {
  const cached = holidayCache.get(year);
  if (cached) return cached;
  const days = new Set<string>();
  // New Year's Day on a Saturday is not moved to Friday Dec 31 (NYSE keeps the year-end open)
  if (weekdayOf(year, 1, 1) !== 6) days.add(observed(year, 1, 1));
  days.add(nthWeekday(year, 1, 1, 3));
  days.add(nthWeekday(year, 2, 1, 3));
  const e = easter(year);
  days.add(shiftDays(iso(year, e.m, e.d), -2));
  days.add(nthWeekday(year, 5, 1, -1));
  if (year >= 2022) days.add(observed(year, 6, 19));
  days.add(observed(year, 7, 4));
  days.add(nthWeekday(year, 9, 1, 1));
  days.add(nthWeekday(year, 11, 4, 4));
  days.add(observed(year, 12, 25));
  for (const special of SPECIAL_CLOSURES) if (special.startsWith(`${year}-`)) days.add(special);
  holidayCache.set(year, days);
  return days;
}

/** whether the exchange closes at 13:00 on a trading day */
export function isHalfDay(date: string): boolean {
  const [y, m, d] = date.split("-").map(Number) as [number, number, number];
  if (!isTradingDay(date)) return false;
  if (date === shiftDays(nthWeekday(y, 11, 4, 4), 1)) return true;
  const weekday = weekdayOf(y, m, d);
  const monToThu = weekday >= 1 && weekday <= 4;
  return monToThu && ((m === 7 && d === 3) || (m === 12 && d === 24));
}

export function isTradingDay(date: string): boolean {
  const [y, m, d] = date.split("-").map(Number) as [number, number, number];
  const weekday = weekdayOf(y, m, d);
  if (weekday === 0 || weekday === 6) return false;
  return !nyseHolidays(y).has(date);
}

/** the regular session of a date, or undefined when the exchange is closed */
export function sessionOf(date: string): TradingSession | undefined {
  if (!isTradingDay(date)) return undefined;
  const halfDay = isHalfDay(date);
  return {
    date,
    openMs: newYorkInstant(date, OPEN_MINUTE),
    closeMs: newYorkInstant(date, halfDay ? HALF_DAY_CLOSE_MINUTE : CLOSE_MINUTE),
    halfDay,
  };
}

/** the trading days from `from` to `to` inclusive (YYYY-MM-DD) */
export function tradingDays(from: string, to: string): string[] {
  const days: string[] = [];
  for (let date = from; date <= to; date = shiftDays(date, 1)) if (isTradingDay(date)) days.push(date);
  return days;
}

/** the session open at an instant, if the market is open then */
export function sessionAt(epochMs: number): TradingSession | undefined {
  const session = sessionOf(newYorkTime(epochMs).date);
  return session && epochMs >= session.openMs && epochMs < session.closeMs ? session : undefined;
}

export { shiftDays };
