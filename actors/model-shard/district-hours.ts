import type { FeatureStore } from "../../features/feature-store.ts";
import { ErrorCodes, isPlatformError } from "../../messages/errors.ts";
import {
  DISTRICT_ENVIRONMENT_VIEW,
  DISTRICT_TRAFFIC_VIEW,
  type DistrictHour,
} from "../../ml/lifecycle/traffic-forecast-features.ts";

/** where one district feature of a forecast is read: a view of the online store and its field */
export interface DistrictField {
  readonly view: string;
  readonly feature: string;
}

/**
 * Each district's last complete hour from the online store, as the forecasters join it: one read
 * per view for all the districts, each field a finite number or null. A view this node does not
 * have (refused at registration) joins as missing, as it does in the offline training set.
 */
export async function onlineDistrictHours<F extends string>(
  store: Pick<FeatureStore, "readOnline">,
  districts: readonly string[],
  fields: Readonly<Record<F, DistrictField>>,
): Promise<ReadonlyMap<string, Record<F, number | null>>> {
  const views = [...new Set(Object.values<DistrictField>(fields).map((f) => f.view))];
  const read = await Promise.all(
    views.map((view) =>
      store.readOnline({ view, entities: districts }).catch((error: unknown) => {
        if (isPlatformError(error, ErrorCodes.FEATURE_VIEW_NOT_FOUND)) return undefined;
        throw error;
      }),
    ),
  );
  const byView = new Map(views.map((view, i) => [view, read[i]]));
  const value = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : null);
  const out = new Map<string, Record<F, number | null>>();
  for (const district of districts) {
    const row = {} as Record<F, number | null>;
    for (const [name, { view, feature }] of Object.entries<DistrictField>(fields)) {
      const values = byView.get(view)?.results.find((r) => r.entity === district)?.values;
      row[name as F] = value(values?.[feature]);
    }
    out.set(district, row);
  }
  return out;
}

/** the traffic forecast's district features: the district's traffic and environment hour */
export const TRAFFIC_DISTRICT_FIELDS = {
  vehicleCount: { view: DISTRICT_TRAFFIC_VIEW, feature: "avg_vehicle_count" },
  avgSpeed: { view: DISTRICT_TRAFFIC_VIEW, feature: "avg_avg_speed" },
  airQuality: { view: DISTRICT_ENVIRONMENT_VIEW, feature: "avg_air_quality_index" },
  temperature: { view: DISTRICT_ENVIRONMENT_VIEW, feature: "avg_temperature" },
} as const satisfies Record<keyof DistrictHour, DistrictField>;

/** the utility forecast's district features: the district's consumption hour and its temperature */
export const UTILITY_DISTRICT_FIELDS = {
  consumption: { view: "district_utility_hourly", feature: "avg_consumption" },
  temperature: { view: DISTRICT_ENVIRONMENT_VIEW, feature: "avg_temperature" },
} as const satisfies Record<string, DistrictField>;
