import type {
  EnvironmentReading,
  SensorType,
  TrafficReading,
  UtilityReading,
} from "../../messages/sensor-reading.ts";
import { consumptionLevel, temperatureOffset, trafficLevel } from "./daily-profiles.ts";
import type { Prng } from "./prng.ts";

/**
 * One simulated sensor: where it is and the constants that make it differ from its neighbours.
 * The measurement models below turn (sensor, local time) into the clean values of a reading;
 * faults, anomalies and drift are applied on top by the fleet.
 */
export interface SensorInfo {
  readonly sensor_id: string;
  readonly type: SensorType;
  readonly location: { readonly lat: number; readonly lon: number };
  /** how often this sensor reports, in ms (what completeness checks expect) */
  readonly intervalMs: number;
}

export interface SensorTraits {
  /** traffic: vehicles per reading at the weekday peak */
  readonly capacity: number;
  /** traffic: speed with an empty road, km/h */
  readonly freeFlowSpeed: number;
  /** environment: this site's offset from the city mean temperature, °C */
  readonly temperatureBias: number;
  /** environment: this site's AQI background */
  readonly aqiBackground: number;
  /** utility: consumption at the evening peak, W */
  readonly peakConsumption: number;
  /** utility: this feeder's nominal voltage offset from 230 V */
  readonly voltageBias: number;
}

export function drawTraits(prng: Prng): SensorTraits {
  return {
    capacity: prng.uniform(60, 140),
    freeFlowSpeed: prng.uniform(48, 72),
    temperatureBias: prng.uniform(-1.5, 1.5),
    aqiBackground: prng.uniform(18, 35),
    peakConsumption: prng.uniform(1500, 3200),
    voltageBias: prng.uniform(-2, 2),
  };
}

export type Measurements = Record<string, number>;

const round2 = (x: number): number => Math.round(x * 100) / 100;

export function trafficValues(t: SensorTraits, hour: number, weekend: boolean, prng: Prng): Measurements {
  const level = trafficLevel(hour, weekend);
  const count = Math.max(
    0,
    Math.round(t.capacity * level * (1 + prng.gaussian(0, 0.08)) + prng.gaussian(0, 2)),
  );
  // speed falls with the square of the load (a BPR-like volume-delay curve); an empty road has no speed
  const load = count / (t.capacity * 1.1);
  const speed =
    count === 0 ? 0 : Math.max(3, t.freeFlowSpeed * (1 - 0.65 * load * load) + prng.gaussian(0, 2));
  return { vehicle_count: count, avg_speed: round2(speed) };
}

export function environmentValues(t: SensorTraits, hour: number, weekend: boolean, prng: Prng): Measurements {
  const diurnal = temperatureOffset(hour);
  const temperature = 14 + t.temperatureBias + diurnal + prng.gaussian(0, 0.3);
  // relative humidity falls as the air warms (same moisture, higher saturation pressure)
  const humidity = Math.min(100, Math.max(5, 62 - 2.2 * diurnal + prng.gaussian(0, 2.5)));
  // traffic emissions drive the AQI, with a lag-free simplification
  const aqi = Math.max(0, t.aqiBackground + 90 * trafficLevel(hour, weekend) + prng.gaussian(0, 4));
  return {
    temperature: round2(temperature),
    humidity: Math.round(humidity),
    air_quality_index: Math.round(aqi),
  };
}

export function utilityValues(t: SensorTraits, hour: number, weekend: boolean, prng: Prng): Measurements {
  const consumption = Math.max(
    0,
    t.peakConsumption * consumptionLevel(hour, weekend) * (1 + prng.gaussian(0, 0.06)),
  );
  const voltage = 230 + t.voltageBias + prng.gaussian(0, 1.5);
  const current = (consumption / voltage) * (1 + prng.gaussian(0, 0.02));
  return {
    consumption: round2(consumption),
    voltage: round2(voltage),
    current: round2(Math.max(0, current)),
  };
}

export const VALUE_MODELS: Record<
  SensorType,
  (t: SensorTraits, hour: number, weekend: boolean, prng: Prng) => Measurements
> = { traffic: trafficValues, environment: environmentValues, utility: utilityValues };

export function toReading(info: SensorInfo, time: number, values: Measurements) {
  const timestamp = new Date(time).toISOString();
  switch (info.type) {
    case "traffic":
      return {
        type: "traffic",
        sensor_id: info.sensor_id,
        timestamp,
        vehicle_count: Math.round(values.vehicle_count!),
        avg_speed: values.avg_speed!,
        location: { lat: info.location.lat, lon: info.location.lon },
      } satisfies TrafficReading;
    case "environment":
      return {
        type: "environment",
        sensor_id: info.sensor_id,
        timestamp,
        temperature: values.temperature!,
        humidity: values.humidity!,
        air_quality_index: values.air_quality_index!,
      } satisfies EnvironmentReading;
    case "utility":
      return {
        type: "utility",
        sensor_id: info.sensor_id,
        timestamp,
        consumption: values.consumption!,
        voltage: values.voltage!,
        current: values.current!,
      } satisfies UtilityReading;
  }
}
