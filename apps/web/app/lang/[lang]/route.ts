import { NextResponse, type NextRequest } from 'next/server';
import { isLang, LANG_COOKIE } from '@/lib/i18n';
import { safeNext } from '@/lib/session';

/** GET /lang/zh or /lang/en: remembers the language and goes back to the referring page. */
export async function GET(request: NextRequest, { params }: { params: Promise<{ lang: string }> }) {
  const { lang } = await params;
  let back = safeNext(request.nextUrl.searchParams.get('next'), '');
  if (!back) {
    const referer = request.headers.get('referer');
    try {
      const from = referer ? new URL(referer) : null;
      if (from && from.host === request.headers.get('host')) back = from.pathname + from.search;
    } catch {
      back = '';
    }
  }
  const response = new NextResponse(null, {
    status: 303,
    headers: { location: safeNext(back), 'cache-control': 'no-store' },
  });
  if (isLang(lang)) {
    response.cookies.set(LANG_COOKIE, lang, {
      path: '/',
      maxAge: 365 * 24 * 3600,
      sameSite: 'lax',
    });
  }
  return response;
}
