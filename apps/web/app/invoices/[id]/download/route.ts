import { type NextRequest, NextResponse } from 'next/server';
import { apiBaseUrl } from '@/lib/api';
import { observeUpstream } from '@/lib/metrics';
import { getSession, loginUrl } from '@/lib/session';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * `/invoices/<id>/download?format=csv|pdf`: the invoice document from the API, fetched with the
 * session's token (the browser never holds it) and passed through with its headers.
 */
export async function GET(
  request: NextRequest,
  ctx: { params: Promise<{ id: string }> },
): Promise<Response> {
  const { id } = await ctx.params;
  const format = request.nextUrl.searchParams.get('format');
  if (!UUID.test(id) || (format !== 'csv' && format !== 'pdf')) {
    return new NextResponse('not found', { status: 404 });
  }
  const session = await getSession();
  if (!session) {
    return NextResponse.redirect(new URL(loginUrl(`/invoices/${id}`), request.url), 303);
  }
  let upstream: Response;
  const route = `/v1/invoices/{id}.${format}`;
  const startedAt = performance.now();
  try {
    upstream = await fetch(`${apiBaseUrl()}/v1/invoices/${id}.${format}`, {
      headers: { authorization: `Bearer ${session.token}` },
      cache: 'no-store',
      signal: AbortSignal.timeout(15_000),
    });
  } catch {
    observeUpstream('GET', route, 0, startedAt);
    return new NextResponse('service unavailable', { status: 503 });
  }
  observeUpstream('GET', route, upstream.status, startedAt);
  if (!upstream.ok) return new NextResponse(await upstream.text(), { status: upstream.status });
  return new NextResponse(upstream.body, {
    status: 200,
    headers: {
      'content-type': upstream.headers.get('content-type') ?? 'application/octet-stream',
      'content-disposition': upstream.headers.get('content-disposition') ?? 'attachment',
      'cache-control': 'private, no-store',
    },
  });
}
