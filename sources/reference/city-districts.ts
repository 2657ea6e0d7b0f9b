/**
 * Named districts on a 3 x 3 grid around the city centre, for the sensor registry: a sensor's
 * district is the grid cell its location falls in (points beyond the grid go to the edge cell).
 * The default names are Berlin's boroughs placed roughly where they lie around Mitte, which is
 * where the simulated fleet stands by default.
 */
export interface CityGrid {
  readonly centre: { readonly lat: number; readonly lon: number };
  readonly radiusKm: number;
  /** rows from north to south, columns from west to east */
  readonly names: readonly (readonly [string, string, string])[];
}

export const BERLIN_GRID: CityGrid = {
  centre: { lat: 52.52, lon: 13.405 },
  radiusKm: 6,
  names: [
    ["Reinickendorf", "Pankow", "Lichtenberg"],
    ["Charlottenburg-Wilmersdorf", "Mitte", "Friedrichshain-Kreuzberg"],
    ["Steglitz-Zehlendorf", "Tempelhof-Schöneberg", "Neukölln"],
  ],
};

const KM_PER_DEGREE_LAT = 111.32;

/** the grid cell of a location: row 0 is north, column 0 is west */
export function gridCell(grid: CityGrid, location: { lat: number; lon: number }): [number, number] {
  const northKm = (location.lat - grid.centre.lat) * KM_PER_DEGREE_LAT;
  const eastKm =
    (location.lon - grid.centre.lon) * KM_PER_DEGREE_LAT * Math.cos((grid.centre.lat * Math.PI) / 180);
  const cellKm = (2 * grid.radiusKm) / 3;
  const clamp = (i: number) => Math.min(2, Math.max(0, i));
  const row = clamp(Math.floor((grid.radiusKm - northKm) / cellKm));
  const column = clamp(Math.floor((eastKm + grid.radiusKm) / cellKm));
  return [row, column];
}

export function districtOf(grid: CityGrid, location: { lat: number; lon: number }): string {
  const [row, column] = gridCell(grid, location);
  return grid.names[row]![column]!;
}

export function isCentreCell(grid: CityGrid, location: { lat: number; lon: number }): boolean {
  const [row, column] = gridCell(grid, location);
  return row === 1 && column === 1;
}
