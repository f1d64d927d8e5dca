import type { Metadata } from 'next';
import type { ReactNode } from 'react';
import Link from 'next/link';
import { NavLinks } from '@/components/nav-links';
import { HTML_LANG, LANGS, dictFor } from '@/lib/i18n';
import { getI18n } from '@/lib/i18n/server';
import { getSession } from '@/lib/session';
import './globals.css';
import './journeys.css';

export async function generateMetadata(): Promise<Metadata> {
  const { t } = await getI18n();
  return {
    title: { default: t.meta.title, template: `%s · ${t.meta.title}` },
    description: t.meta.description,
  };
}

export default async function RootLayout({ children }: { children: ReactNode }) {
  const { lang, t } = await getI18n();
  const session = await getSession();
  const items = [
    { href: '/', label: t.nav.catalog },
    { href: '/cri', label: t.nav.cri },
    { href: '/stats', label: t.privacy.nav.stats },
    ...(session
      ? [
          { href: '/wallet', label: t.nav.wallet },
          { href: '/leases', label: t.nav.leases },
          { href: '/invoices', label: t.nav.invoices },
        ]
      : []),
    ...(session?.profile?.roles.includes('seller')
      ? [
          { href: '/seller/resources', label: t.nav.sellerResources },
          { href: '/seller/offers', label: t.sellerOffers.heading },
          { href: '/seller/earnings', label: t.nav.earnings },
          { href: '/seller/records', label: t.privacy.nav.records },
          { href: '/seller/usage', label: t.usage.nav },
        ]
      : []),
    ...(session?.profile?.roles.includes('operator')
      ? [{ href: '/operator', label: t.j.nav.operator }]
      : []),
    ...(session?.profile?.roles.includes('assessor')
      ? [{ href: '/assessor', label: t.nav.assessor }]
      : []),
  ];

  return (
    <html lang={HTML_LANG[lang]}>
      <body>
        <header className="site-header">
          <div className="container header-inner">
            <Link href="/" className="brand">
              <span className="brand-mark" aria-hidden="true">
                算
              </span>
              <span className="brand-text">
                <span className="brand-zh">算力交易所</span>
                <span className="brand-en">Suanli Exchange</span>
              </span>
            </Link>
            <NavLinks items={items} label={t.nav.main} />
            <div className="header-tools">
              {session ? (
                <>
                  {session.profile ? (
                    <span className="user" title={session.profile.email}>
                      <span className="sr-only">{t.nav.signedInAs} </span>
                      {session.profile.displayName}
                    </span>
                  ) : null}
                  <form action="/logout" method="post">
                    <button type="submit" className="link-button">
                      {t.nav.logout}
                    </button>
                  </form>
                </>
              ) : (
                <>
                  <Link href="/signup" className="link-button">
                    {t.j.nav.signup}
                  </Link>
                  <Link href="/login" className="button button-small">
                    {t.nav.login}
                  </Link>
                </>
              )}
              <div className="lang-switch" role="group" aria-label={t.nav.language}>
                {LANGS.map((code) =>
                  code === lang ? (
                    <span key={code} className="lang current" lang={HTML_LANG[code]}>
                      {dictFor(code).langName}
                    </span>
                  ) : (
                    // A plain link (never prefetched): the route handler sets the cookie.
                    <a
                      key={code}
                      className="lang"
                      href={`/lang/${code}`}
                      hrefLang={HTML_LANG[code]}
                      lang={HTML_LANG[code]}
                    >
                      {dictFor(code).langName}
                    </a>
                  ),
                )}
              </div>
            </div>
          </div>
        </header>
        <main className="container main">{children}</main>
        <footer className="site-footer">
          <div className="container">
            <p>{t.footer.note}</p>
            <p className="muted">© 2026 算力交易所 Suanli Exchange</p>
          </div>
        </footer>
      </body>
    </html>
  );
}
