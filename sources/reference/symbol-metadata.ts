import type { Log, RecordPosition } from "../../log/log.ts";
import { type SymbolMetadataRecord, symbolMetadataKind } from "../../messages/reference-data.ts";
import { Topics } from "../../messages/topics.ts";
import { ensureReferenceTopic, publishReferenceRows } from "./reference-publisher.ts";

/**
 * A built-in symbol metadata table: twenty US large caps with their listing exchange and GICS
 * sector / industry as publicly listed, enough for the market-data simulator and tests until a
 * provider's reference endpoint feeds the same compacted topic.
 */
type Listing = Omit<SymbolMetadataRecord, "updated_at" | "currency" | "lot_size">;

export const US_LARGE_CAPS: readonly Listing[] = [
  {
    symbol: "AAPL",
    name: "Apple Inc.",
    exchange: "NASDAQ",
    sector: "Information Technology",
    industry: "Technology Hardware, Storage & Peripherals",
  },
  {
    symbol: "MSFT",
    name: "Microsoft Corporation",
    exchange: "NASDAQ",
    sector: "Information Technology",
    industry: "Software",
  },
  {
    symbol: "NVDA",
    name: "NVIDIA Corporation",
    exchange: "NASDAQ",
    sector: "Information Technology",
    industry: "Semiconductors & Semiconductor Equipment",
  },
  {
    symbol: "AMZN",
    name: "Amazon.com, Inc.",
    exchange: "NASDAQ",
    sector: "Consumer Discretionary",
    industry: "Broadline Retail",
  },
  {
    symbol: "GOOGL",
    name: "Alphabet Inc. Class A",
    exchange: "NASDAQ",
    sector: "Communication Services",
    industry: "Interactive Media & Services",
  },
  {
    symbol: "META",
    name: "Meta Platforms, Inc.",
    exchange: "NASDAQ",
    sector: "Communication Services",
    industry: "Interactive Media & Services",
  },
  {
    symbol: "TSLA",
    name: "Tesla, Inc.",
    exchange: "NASDAQ",
    sector: "Consumer Discretionary",
    industry: "Automobiles",
  },
  {
    symbol: "AVGO",
    name: "Broadcom Inc.",
    exchange: "NASDAQ",
    sector: "Information Technology",
    industry: "Semiconductors & Semiconductor Equipment",
  },
  {
    symbol: "BRK.B",
    name: "Berkshire Hathaway Inc. Class B",
    exchange: "NYSE",
    sector: "Financials",
    industry: "Financial Services",
  },
  { symbol: "JPM", name: "JPMorgan Chase & Co.", exchange: "NYSE", sector: "Financials", industry: "Banks" },
  { symbol: "V", name: "Visa Inc.", exchange: "NYSE", sector: "Financials", industry: "Financial Services" },
  {
    symbol: "MA",
    name: "Mastercard Incorporated",
    exchange: "NYSE",
    sector: "Financials",
    industry: "Financial Services",
  },
  {
    symbol: "UNH",
    name: "UnitedHealth Group Incorporated",
    exchange: "NYSE",
    sector: "Health Care",
    industry: "Health Care Providers & Services",
  },
  {
    symbol: "JNJ",
    name: "Johnson & Johnson",
    exchange: "NYSE",
    sector: "Health Care",
    industry: "Pharmaceuticals",
  },
  {
    symbol: "LLY",
    name: "Eli Lilly and Company",
    exchange: "NYSE",
    sector: "Health Care",
    industry: "Pharmaceuticals",
  },
  {
    symbol: "XOM",
    name: "Exxon Mobil Corporation",
    exchange: "NYSE",
    sector: "Energy",
    industry: "Oil, Gas & Consumable Fuels",
  },
  {
    symbol: "WMT",
    name: "Walmart Inc.",
    exchange: "NYSE",
    sector: "Consumer Staples",
    industry: "Consumer Staples Distribution & Retail",
  },
  {
    symbol: "PG",
    name: "The Procter & Gamble Company",
    exchange: "NYSE",
    sector: "Consumer Staples",
    industry: "Household Products",
  },
  {
    symbol: "HD",
    name: "The Home Depot, Inc.",
    exchange: "NYSE",
    sector: "Consumer Discretionary",
    industry: "Specialty Retail",
  },
  {
    symbol: "KO",
    name: "The Coca-Cola Company",
    exchange: "NYSE",
    sector: "Consumer Staples",
    industry: "Beverages",
  },
];

export interface SymbolMetadataOptions {
  /** `updated_at` of every row; default now */
  readonly updatedAt?: number;
  readonly topic?: string;
  readonly partitions?: number;
}

export function symbolMetadataRows(updatedAt: number = Date.now()): SymbolMetadataRecord[] {
  const updated_at = new Date(updatedAt).toISOString();
  return US_LARGE_CAPS.map((listing) => ({ ...listing, currency: "USD", lot_size: 1, updated_at }));
}

/** create the compacted symbol metadata topic and write the built-in table; returns the rows */
export async function publishSymbolMetadata(
  log: Log,
  options: SymbolMetadataOptions = {},
): Promise<SymbolMetadataRecord[]> {
  const topic = options.topic ?? Topics.symbolMetadata;
  await ensureReferenceTopic(log, topic, options.partitions);
  const rows = symbolMetadataRows(options.updatedAt);
  await publishReferenceRows(log, topic, symbolMetadataKind, rows);
  return rows;
}

/** a live change of one symbol's row; refused with SCHEMA_VIOLATION if the row is invalid */
export async function updateSymbol(
  log: Log,
  row: SymbolMetadataRecord,
  topic: string = Topics.symbolMetadata,
): Promise<RecordPosition> {
  const [position] = await publishReferenceRows(log, topic, symbolMetadataKind, [row]);
  return position!;
}
