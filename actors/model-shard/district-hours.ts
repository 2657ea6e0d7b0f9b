import type { FeatureStore } from "../../features/feature-store.ts";
import { ErrorCodes, isPlatformError } from "../../messages/errors.ts";
import { fieldValues, type ViewField } from "../../ml/lifecycle/traffic-forecast-features.ts";

/**
 * Each district's last complete hour from the online store, as the forecasters join it: one read
 * per view for all the districts, each field a finite number or null. The fields are the ones
 * the training set joins (`TRAFFIC_DISTRICT_FIELDS`, `UTILITY_DISTRICT_FIELDS` in `ml/lifecycle/`).
 * A view this node does not have (refused at registration) joins as missing, as it does in the
 * offline training set.
 */
export async function onlineDistrictHours<F extends string>(
  store: Pick<FeatureStore, "readOnline">,
  districts: readonly string[],
  fields: Readonly<Record<F, ViewField>>,
): Promise<ReadonlyMap<string, Record<F, number | null>>> {
  const views = [...new Set(Object.values<ViewField>(fields).map((f) => f.view))];
  const read = await Promise.all(
    views.map((view) =>
      store.readOnline({ view, entities: districts }).catch((error: unknown) => {
        if (isPlatformError(error, ErrorCodes.FEATURE_VIEW_NOT_FOUND)) return undefined;
        throw error;
      }),
    ),
  );
  const byView = new Map(views.map((view, i) => [view, read[i]]));
  const finite = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : null);
  return new Map(
    districts.map((district) => [
      district,
      fieldValues(fields, (view, feature) =>
        finite(byView.get(view)?.results.find((r) => r.entity === district)?.values[feature]),
      ),
    ]),
  );
}

/**
 * The hours of the districts a batch of sensors is in, read once for the batch: no read when the
 * node knows no district (no sensor registry, no online store) or none of the sensors has one.
 */
export function districtHoursOfSensors<H>(
  sensorIds: Iterable<string>,
  districtOf: ((sensorId: string) => string | undefined) | undefined,
  districtHours: ((districts: readonly string[]) => Promise<ReadonlyMap<string, H>>) | undefined,
): Promise<ReadonlyMap<string, H>> {
  if (!districtHours || !districtOf) return Promise.resolve(new Map());
  const districts = new Set<string>();
  for (const id of sensorIds) {
    const district = districtOf(id);
    if (district !== undefined) districts.add(district);
  }
  return districts.size === 0 ? Promise.resolve(new Map()) : districtHours([...districts]);
}
