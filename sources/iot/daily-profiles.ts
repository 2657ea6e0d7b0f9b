/**
 * The shapes of a simulated city day, as pure functions of the local hour (0-24, fractional)
 * and whether the day is a weekend. Each returns a level, not a reading: the fleet scales it
 * per sensor and adds noise (`sensor-fleet.ts`).
 *
 * Shapes follow the usual published patterns: urban traffic counts with an AM peak at 7-9 and
 * a broader PM peak at 16-19 on weekdays and one midday hump on weekends; temperature lagging
 * the sun with its maximum mid-afternoon; residential electricity with a small morning and a
 * large evening peak.
 */

const bump = (hour: number, centre: number, width: number): number =>
  Math.exp(-((hour - centre) ** 2) / (2 * width * width));

/** Relative traffic intensity in [0, ~1]: 1 is the weekday PM peak. */
export function trafficLevel(hour: number, weekend: boolean): number {
  const night = 0.06;
  if (weekend) {
    return night + 0.5 * bump(hour, 13.5, 3.2) + 0.12 * bump(hour, 20, 1.5);
  }
  return night + 0.3 * bump(hour, 12.5, 3.5) + 0.75 * bump(hour, 8, 0.7) + 0.7 * bump(hour, 17.5, 1.0);
}

/** Diurnal temperature offset in °C, minimum near 05:00, maximum near 15:00. */
export function temperatureOffset(hour: number): number {
  return 6 * Math.sin((2 * Math.PI * (hour - 9)) / 24);
}

/** Relative household consumption in [0, ~1]: 1 is the evening peak. */
export function consumptionLevel(hour: number, weekend: boolean): number {
  const base = 0.22;
  const morning = (weekend ? 0.2 : 0.28) * bump(hour, weekend ? 9.5 : 7.5, 1.2);
  const midday = weekend ? 0.25 * bump(hour, 13, 2.5) : 0.08 * bump(hour, 13, 2.5);
  return base + morning + midday + 0.75 * bump(hour, 19.5, 1.8);
}

/** Local hour and weekend flag of an epoch-ms time in a fixed UTC offset (no DST: a simulation). */
export function localTime(time: number, utcOffsetHours: number): { hour: number; weekend: boolean } {
  const local = new Date(time + utcOffsetHours * 3_600_000);
  const hour = local.getUTCHours() + local.getUTCMinutes() / 60 + local.getUTCSeconds() / 3600;
  const day = local.getUTCDay();
  return { hour, weekend: day === 0 || day === 6 };
}
