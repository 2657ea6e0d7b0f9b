/**
 * A streaming change detector over one stream of numbers (a model's live error, or 0/1 for a
 * classifier's mistakes). `update` takes the next value and says whether a change was detected
 * at it; after a detection the detector starts afresh on the next value, as River's do, so the
 * detections of the same stream are at the same indices here and in River (the test compares
 * them: test/ml/detectors/detectors-vs-river.test.ts).
 */
export interface ChangeDetector {
  readonly kind: "adwin" | "page-hinkley" | "ddm";
  update(value: number): boolean;
  /** DDM's warning zone; false for detectors without one */
  readonly warning: boolean;
}
