import { expect, test } from "bun:test";
import { districtHoursOfSensors, onlineDistrictHours } from "../../../actors/model-shard/district-hours.ts";
import { ErrorCodes, PlatformError } from "../../../messages/errors.ts";
import { TRAFFIC_DISTRICT_FIELDS } from "../../../ml/lifecycle/traffic-forecast-features.ts";
import { UTILITY_DISTRICT_FIELDS } from "../../../ml/lifecycle/utility-forecast-features.ts";

/** The forecasters' district features from the online store, missing as null as offline. */
function store(views: Record<string, Record<string, Record<string, unknown>>>, failing?: Error) {
  const reads: string[] = [];
  return {
    reads,
    readOnline: async ({ view, entities }: { view: string; entities: readonly string[] }) => {
      reads.push(view);
      if (failing) throw failing;
      const rows = views[view];
      if (!rows) throw new PlatformError(ErrorCodes.FEATURE_VIEW_NOT_FOUND, `no view ${view}`);
      return {
        results: entities.flatMap((entity) => (rows[entity] ? [{ entity, values: rows[entity] }] : [])),
      } as never;
    },
  };
}

test("the traffic forecast reads each view once for all districts, a field each", async () => {
  const online = store({
    district_traffic_hourly: { mitte: { avg_vehicle_count: 12, avg_avg_speed: 31 } },
    district_environment_hourly: { mitte: { avg_air_quality_index: 40, avg_temperature: 7.5 } },
  });
  const hours = await onlineDistrictHours(online, ["mitte", "wedding"], TRAFFIC_DISTRICT_FIELDS);
  expect(online.reads.sort()).toEqual(["district_environment_hourly", "district_traffic_hourly"]);
  expect(hours.get("mitte")).toEqual({ vehicleCount: 12, avgSpeed: 31, airQuality: 40, temperature: 7.5 });
  expect(hours.get("wedding")).toEqual({
    vehicleCount: null,
    avgSpeed: null,
    airQuality: null,
    temperature: null,
  });
});

test.each<[string, unknown]>([
  ["a string", "12"],
  ["NaN", Number.NaN],
  ["infinity", Number.POSITIVE_INFINITY],
  ["null", null],
])("a value that is %s joins as null", async (_name, value) => {
  const online = store({
    district_utility_hourly: { mitte: { avg_consumption: value } },
    district_environment_hourly: { mitte: { avg_temperature: 3 } },
  });
  const hours = await onlineDistrictHours(online, ["mitte"], UTILITY_DISTRICT_FIELDS);
  expect(hours.get("mitte")).toEqual({ consumption: null, temperature: 3 });
});

test("a view the node does not have joins as missing; any other failure fails the read", async () => {
  const partial = store({ district_environment_hourly: { mitte: { avg_temperature: 3 } } });
  expect((await onlineDistrictHours(partial, ["mitte"], UTILITY_DISTRICT_FIELDS)).get("mitte")).toEqual({
    consumption: null,
    temperature: 3,
  });
  const down = store({}, new PlatformError(ErrorCodes.INFRA_UNAVAILABLE, "redis down"));
  await expect(onlineDistrictHours(down, ["mitte"], UTILITY_DISTRICT_FIELDS)).rejects.toThrow(/redis down/);
});

const registry: Record<string, string> = { s1: "mitte", s2: "mitte", s3: "wedding" };
test.each<[string, readonly string[], boolean, boolean, readonly (readonly string[])[]]>([
  ["a batch's districts are read once, each once", ["s1", "s2", "s3"], true, true, [["mitte", "wedding"]]],
  ["sensors with no district read nothing", ["unknown"], true, true, []],
  ["no sensor registry reads nothing", ["s1"], false, true, []],
  ["no online store reads nothing", ["s1"], true, false, []],
])("%s", async (_name, sensors, withRegistry, withStore, reads) => {
  const asked: (readonly string[])[] = [];
  const hours = await districtHoursOfSensors(
    sensors,
    withRegistry ? (id) => registry[id] : undefined,
    withStore
      ? async (districts) => {
          asked.push(districts);
          return new Map(districts.map((d) => [d, 1]));
        }
      : undefined,
  );
  expect(asked).toEqual([...reads]);
  expect([...hours.keys()]).toEqual(reads.flat());
});
