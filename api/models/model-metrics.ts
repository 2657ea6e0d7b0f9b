import { Gauge, type Registry } from "prom-client";

/** one figure of a model version: its series name, its help, and how it is read (undefined: no sample) */
export type VersionFigure<T> = readonly [
  name: string,
  help: string,
  read: (figures: T) => number | undefined,
];

/**
 * Per-version gauges of the models, labelled `model` and `version`, read at each scrape from
 * what serves now: a version no longer served leaves its series with the next scrape.
 */
export function observeModelVersions<T>(
  registry: Registry,
  figures: readonly VersionFigure<T>[],
  versions: () => Iterable<readonly [model: string, version: string, figures: T]>,
): void {
  for (const [name, help, read] of figures)
    new Gauge({
      name,
      help,
      labelNames: ["model", "version"],
      registers: [registry],
      collect() {
        this.reset();
        for (const [model, version, figures] of versions()) {
          const value = read(figures);
          if (value !== undefined) this.set({ model, version }, value);
        }
      },
    });
}

/** one gauge read at each scrape, no labels (a count the node keeps) */
export function observeCount(registry: Registry, name: string, help: string, read: () => number): void {
  new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      this.set(read());
    },
  });
}
