export { EmbeddedLog, type EmbeddedLogOptions, openEmbeddedLog } from "./embedded-log.ts";
export type { MaintenanceReport } from "./maintenance.ts";
