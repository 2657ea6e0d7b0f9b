import {
  MEASUREMENT_RANGES,
  MEASUREMENTS,
  type Measurement,
  PHYSICAL_LIMITS,
  SENSOR_TYPES,
  type SensorReading,
  type SensorType,
} from "../../messages/sensor-reading.ts";
import { localTime } from "./daily-profiles.ts";
import { createPrng } from "./prng.ts";
import {
  drawTraits,
  type Measurements,
  type SensorInfo,
  type SensorTraits,
  toReading,
  VALUE_MODELS,
} from "./sensor-models.ts";

/**
 * A deterministic fleet of simulated city sensors. Same seed and same sequence of calls give the
 * same readings. Clean values come from `sensor-models.ts`; on top of them the fleet applies, in
 * this order: drift (live distribution change), anomaly bursts, sensor faults (stuck value,
 * dropout, out-of-range spike). Every anomaly and fault is reported as a ground-truth label, so
 * detectors and quality checks can be scored against it.
 */
export type { SensorInfo } from "./sensor-models.ts";

export interface FaultRates {
  /** probability per reading that a sensor sticks (repeats its last values) */
  readonly stuckRate: number;
  /** how many readings a stuck spell lasts */
  readonly stuckReadings: number;
  /** probability per reading that it goes missing */
  readonly dropoutRate: number;
  /** probability per reading that one field jumps above its plausible range */
  readonly spikeRate: number;
  /** probability per reading that an anomaly burst starts */
  readonly anomalyRate: number;
  readonly anomalyMinReadings: number;
  readonly anomalyMaxReadings: number;
}

export interface SensorFleetConfig {
  readonly seed?: number;
  /** default 5 per type, as the original design */
  readonly sensorsPerType?: number | Partial<Record<SensorType, number>>;
  /** each sensor's reporting interval; default 1000 ms */
  readonly intervalMs?: number;
  /** sensors sit on a grid around this point; default Berlin Mitte */
  readonly city?: { readonly lat: number; readonly lon: number; readonly radiusKm?: number };
  readonly utcOffsetHours?: number;
  readonly clock?: () => number;
  /** where `tick()` starts; default clock() */
  readonly startTime?: number;
  readonly faults?: Partial<FaultRates>;
}

/** A live change of distribution: value' = value * scale + shift, for one field of one type. */
export interface Drift {
  readonly type: SensorType;
  readonly field: Measurement;
  readonly shift?: number;
  readonly scale?: number;
}

export interface GroundTruthLabel {
  readonly sensor_id: string;
  readonly type: SensorType;
  readonly time: number;
  readonly kind: "anomaly" | "spike" | "stuck" | "dropout";
  readonly field?: string;
}

export interface FleetBatch {
  readonly time: number;
  readonly readings: SensorReading[];
  readonly labels: GroundTruthLabel[];
}

export interface SensorFleet {
  readonly sensors: readonly SensorInfo[];
  readonly intervalMs: number;
  /** one reading per sensor at `time` (minus dropouts), with the labels of what was injected */
  generate(time: number): FleetBatch;
  readingsAt(time: number): SensorReading[];
  /** generate at the fleet's own cursor, then advance it by one interval (simulated time) */
  tick(): FleetBatch;
  setDrift(drift: Drift): void;
  clearDrift(type?: SensorType, field?: Measurement): void;
  drifts(): Drift[];
  setFaultRates(rates: Partial<FaultRates>): void;
  /** force an anomaly burst on one sensor from its next reading (deterministic tests) */
  injectAnomaly(sensorId: string, readings: number, field?: Measurement): void;
}

export const DEFAULT_FAULT_RATES: FaultRates = {
  stuckRate: 0.0005,
  stuckReadings: 20,
  dropoutRate: 0.005,
  spikeRate: 0.001,
  anomalyRate: 0.0005,
  anomalyMinReadings: 5,
  anomalyMaxReadings: 20,
};

const ID_PREFIX: Record<SensorType, string> = {
  traffic: "traffic_",
  environment: "env_",
  utility: "utility_",
};
/** fields a spike may hit: humidity's plausible range is its physical one, so it cannot spike */
const SPIKE_FIELDS: Record<SensorType, readonly Measurement[]> = {
  traffic: ["vehicle_count", "avg_speed"],
  environment: ["temperature", "air_quality_index"],
  utility: ["consumption", "voltage", "current"],
};
/** what an anomaly burst does to each field: a multiplier and an offset */
const ANOMALY_EFFECT: Partial<Record<Measurement, { scale: number; shift: number }>> = {
  vehicle_count: { scale: 2.5, shift: 20 },
  avg_speed: { scale: 0.35, shift: 0 },
  temperature: { scale: 1, shift: 9 },
  humidity: { scale: 0.5, shift: 0 },
  air_quality_index: { scale: 1, shift: 160 },
  consumption: { scale: 3, shift: 300 },
  voltage: { scale: 1, shift: -25 },
  current: { scale: 3, shift: 1 },
};

interface SensorState {
  readonly info: SensorInfo;
  readonly traits: SensorTraits;
  last: Measurements | undefined;
  stuckLeft: number;
  anomalyLeft: number;
  anomalyField: Measurement | undefined;
}

export function createSensorFleet(config: SensorFleetConfig = {}): SensorFleet {
  const prng = createPrng(config.seed ?? 42);
  const clock = config.clock ?? Date.now;
  const intervalMs = config.intervalMs ?? 1000;
  const utcOffset = config.utcOffsetHours ?? 0;
  let rates: FaultRates = { ...DEFAULT_FAULT_RATES, ...config.faults };
  const driftByKey = new Map<string, Drift>();
  const states = placeSensors(config, intervalMs, prng).map(
    (info): SensorState => ({
      info,
      traits: drawTraits(prng),
      last: undefined,
      stuckLeft: 0,
      anomalyLeft: 0,
      anomalyField: undefined,
    }),
  );
  const byId = new Map(states.map((s) => [s.info.sensor_id, s]));
  let cursor = config.startTime ?? clock();

  function generate(time: number): FleetBatch {
    const { hour, weekend } = localTime(time, utcOffset);
    const readings: SensorReading[] = [];
    const labels: GroundTruthLabel[] = [];
    const label = (s: SensorState, kind: GroundTruthLabel["kind"], field?: string) =>
      labels.push({
        sensor_id: s.info.sensor_id,
        type: s.info.type,
        time,
        kind,
        ...(field ? { field } : {}),
      });

    for (const s of states) {
      const type = s.info.type;
      let values = VALUE_MODELS[type](s.traits, hour, weekend, prng);
      for (const field of MEASUREMENTS[type]) {
        const drift = driftByKey.get(`${type}/${field}`);
        if (drift) values[field] = values[field]! * (drift.scale ?? 1) + (drift.shift ?? 0);
      }
      if (s.anomalyLeft === 0 && prng.chance(rates.anomalyRate)) {
        s.anomalyLeft = prng.int(rates.anomalyMinReadings, rates.anomalyMaxReadings);
        s.anomalyField = MEASUREMENTS[type][prng.int(0, MEASUREMENTS[type].length - 1)];
      }
      if (s.anomalyLeft > 0) {
        s.anomalyLeft--;
        values = applyAnomaly(type, values, s.anomalyField!);
        label(s, "anomaly", s.anomalyField);
      }
      if (s.stuckLeft === 0 && s.last && prng.chance(rates.stuckRate)) s.stuckLeft = rates.stuckReadings;
      if (s.stuckLeft > 0 && s.last) {
        s.stuckLeft--;
        values = { ...s.last };
        label(s, "stuck");
      } else if (prng.chance(rates.spikeRate)) {
        const fields = SPIKE_FIELDS[type];
        const field = fields[prng.int(0, fields.length - 1)]!;
        values[field] = MEASUREMENT_RANGES[field][1] * prng.uniform(1.2, 2);
        label(s, "spike", field);
      }
      clampToPhysicalLimits(values);
      s.last = values;
      if (prng.chance(rates.dropoutRate)) {
        label(s, "dropout");
        continue;
      }
      readings.push(toReading(s.info, time, values));
    }
    return { time, readings, labels };
  }

  return {
    sensors: states.map((s) => s.info),
    intervalMs,
    generate,
    readingsAt: (time) => generate(time).readings,
    tick() {
      const batch = generate(cursor);
      cursor += intervalMs;
      return batch;
    },
    setDrift(drift) {
      driftByKey.set(`${drift.type}/${drift.field}`, drift);
    },
    clearDrift(type, field) {
      for (const [key, d] of driftByKey) {
        if ((type === undefined || d.type === type) && (field === undefined || d.field === field))
          driftByKey.delete(key);
      }
    },
    drifts: () => [...driftByKey.values()],
    setFaultRates(next) {
      rates = { ...rates, ...next };
    },
    injectAnomaly(sensorId, readings, field) {
      const s = byId.get(sensorId);
      if (!s) return;
      s.anomalyLeft = readings;
      s.anomalyField = field ?? MEASUREMENTS[s.info.type][0];
    },
  };
}

function applyAnomaly(type: SensorType, values: Measurements, field: Measurement): Measurements {
  const out = { ...values };
  const effect = ANOMALY_EFFECT[field]!;
  out[field] = out[field]! * effect.scale + effect.shift;
  // keep the physics of the burst consistent: a jam slows traffic, a heavy load draws current
  if (type === "traffic" && field === "vehicle_count") out.avg_speed = out.avg_speed! * 0.4;
  if (type === "utility" && field === "consumption") out.current = out.consumption! / out.voltage!;
  if (type === "traffic") out.vehicle_count = Math.round(out.vehicle_count!);
  return out;
}

function clampToPhysicalLimits(values: Measurements): void {
  for (const field of Object.keys(values)) {
    const [min, max] = PHYSICAL_LIMITS[field as Measurement] as readonly [
      number | undefined,
      number | undefined,
    ];
    let v = Math.round(values[field]! * 100) / 100;
    if (min !== undefined && v < min) v = min;
    if (max !== undefined && v > max) v = max;
    values[field] = v;
  }
}

/** Sensors on a square grid around the city centre, a few hundred metres apart. */
function placeSensors(
  config: SensorFleetConfig,
  intervalMs: number,
  prng: ReturnType<typeof createPrng>,
): SensorInfo[] {
  const centre = config.city ?? { lat: 52.52, lon: 13.405 };
  const radiusKm = config.city?.radiusKm ?? 6;
  const perType = config.sensorsPerType ?? 5;
  const sensors: SensorInfo[] = [];
  for (const type of SENSOR_TYPES) {
    const n = typeof perType === "number" ? perType : (perType[type] ?? 5);
    const side = Math.max(1, Math.ceil(Math.sqrt(n)));
    const stepKm = (2 * radiusKm) / side;
    for (let i = 0; i < n; i++) {
      const northKm = -radiusKm + stepKm * (Math.floor(i / side) + 0.5) + prng.uniform(-0.1, 0.1) * stepKm;
      const eastKm = -radiusKm + stepKm * ((i % side) + 0.5) + prng.uniform(-0.1, 0.1) * stepKm;
      const lat = centre.lat + northKm / 111.32;
      const lon = centre.lon + eastKm / (111.32 * Math.cos((centre.lat * Math.PI) / 180));
      sensors.push({
        sensor_id: `${ID_PREFIX[type]}${i + 1}`,
        type,
        location: { lat: Math.round(lat * 1e5) / 1e5, lon: Math.round(lon * 1e5) / 1e5 },
        intervalMs,
      });
    }
  }
  return sensors;
}
