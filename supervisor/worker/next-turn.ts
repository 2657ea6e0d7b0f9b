/** A macrotask turn, so control messages and timers run between record batches. */
export const nextTurn = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));
