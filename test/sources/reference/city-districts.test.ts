import { expect, test } from "bun:test";
import { BERLIN_GRID, districtOf } from "../../../sources/reference/city-districts.ts";

const { lat, lon } = BERLIN_GRID.centre;
const kmLat = (km: number) => km / 111.32;
const kmLon = (km: number) => km / (111.32 * Math.cos((lat * Math.PI) / 180));

const cases: [string, number, number, string][] = [
  ["the centre", 0, 0, "Mitte"],
  ["5 km north", 5, 0, "Pankow"],
  ["5 km north-west", 5, -5, "Reinickendorf"],
  ["5 km east", 0, 5, "Friedrichshain-Kreuzberg"],
  ["5 km south-east", -5, 5, "Neukölln"],
  ["5 km south", -5, 0, "Tempelhof-Schöneberg"],
  ["50 km west, beyond the grid", 0, -50, "Charlottenburg-Wilmersdorf"],
  ["50 km south-west, beyond the grid", -50, -50, "Steglitz-Zehlendorf"],
  ["just inside the centre cell's north edge", 1.9, 0, "Mitte"],
  ["just beyond the centre cell's north edge", 2.1, 0, "Pankow"],
];
for (const [name, northKm, eastKm, district] of cases) {
  test(`a sensor ${name} is in ${district}`, () => {
    expect(districtOf(BERLIN_GRID, { lat: lat + kmLat(northKm), lon: lon + kmLon(eastKm) })).toBe(district);
  });
}
