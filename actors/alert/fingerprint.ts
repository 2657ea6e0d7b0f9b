/**
 * Alertmanager's fingerprint of a label set (prometheus/common model.LabelSet.Fingerprint):
 * FNV-1a 64 over the label names in sorted order, each name and value followed by the separator
 * byte 0xff, printed as 16 hex digits. The same labels give the same fingerprint here and in
 * Alertmanager, so an alert can be found in either by the same id.
 */
const OFFSET_BASIS = 0xcbf29ce484222325n;
const PRIME = 0x100000001b3n;
const MASK = 0xffffffffffffffffn;
const SEPARATOR = 0xff;
const encoder = new TextEncoder();

export function labelsFingerprint(labels: Readonly<Record<string, string>>): string {
  let hash = OFFSET_BASIS;
  const mix = (byte: number) => {
    hash = ((hash ^ BigInt(byte)) * PRIME) & MASK;
  };
  for (const name of Object.keys(labels).sort()) {
    for (const byte of encoder.encode(name)) mix(byte);
    mix(SEPARATOR);
    for (const byte of encoder.encode(labels[name] ?? "")) mix(byte);
    mix(SEPARATOR);
  }
  return hash.toString(16).padStart(16, "0");
}
