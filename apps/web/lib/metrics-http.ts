import { subscribe } from 'node:diagnostics_channel';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { routeOf, webMetrics } from './metrics';

const started = new WeakMap<IncomingMessage, number>();
let subscribed = false;

/**
 * Times the server's HTTP requests through Node's `http.server.*` diagnostics channels (no
 * patching): from the request's start to its response's `finish`, labelled with the app route
 * pattern, the method and the status.
 */
export function observeHttpRequests(): void {
  if (subscribed) return;
  subscribed = true;
  subscribe('http.server.request.start', (message) => {
    const { request } = message as { request: IncomingMessage };
    started.set(request, performance.now());
  });
  subscribe('http.server.response.finish', (message) => {
    const { request, response } = message as { request: IncomingMessage; response: ServerResponse };
    const at = started.get(request);
    if (at === undefined) return;
    started.delete(request);
    webMetrics().http.observe(
      {
        method: request.method ?? 'GET',
        route: routeOf(request.url ?? '/'),
        status: String(response.statusCode),
      },
      (performance.now() - at) / 1000,
    );
  });
}
