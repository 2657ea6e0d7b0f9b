/**
 * The MLflow tracking server and model registry that `infra/up.sh mlflow` starts (MLFLOW_URL,
 * default http://127.0.0.1:5000). Tests work in experiments and model names of their own, so
 * runs against the long-lived server never see each other.
 */
export const mlflowUrl = process.env.MLFLOW_URL ?? "http://127.0.0.1:5000";

export async function mlflowAnswers(url: string = mlflowUrl): Promise<boolean> {
  try {
    const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
    await response.text();
    return response.ok;
  } catch (error) {
    if (error instanceof Error) return false;
    throw error;
  }
}

export async function requireMlflow(): Promise<void> {
  if (!(await mlflowAnswers())) {
    throw new Error(
      `no MLflow server at ${mlflowUrl}: start it with \`bash infra/up.sh mlflow\` (or set MLFLOW_URL)`,
    );
  }
}

export function uniqueMlflowName(name: string): string {
  return `test-${name}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e9).toString(36)}`;
}
