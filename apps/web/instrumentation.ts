/**
 * Runs once when the server starts. On Node.js it times every request the storefront answers
 * (lib/metrics-http.ts): proxy.ts runs before the page and cannot see its response.
 */
export async function register(): Promise<void> {
  if (process.env.NEXT_RUNTIME === 'nodejs') {
    const { observeHttpRequests } = await import('./lib/metrics-http');
    observeHttpRequests();
  }
}
