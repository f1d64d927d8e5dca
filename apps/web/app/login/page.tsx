import type { Metadata } from 'next';
import Link from 'next/link';
import { redirect } from 'next/navigation';
import { getI18n } from '@/lib/i18n/server';
import { one, type SearchParams } from '@/lib/params';
import { getSession, safeNext } from '@/lib/session';
import { LoginForm } from './login-form';

export async function generateMetadata(): Promise<Metadata> {
  const { t } = await getI18n();
  return { title: t.login.heading };
}

export default async function LoginPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  const next = safeNext(one(await searchParams, 'next'));
  if (await getSession()) redirect(next);
  const { t } = await getI18n();
  return (
    <section className="narrow">
      <div className="card">
        <h1>{t.login.heading}</h1>
        <p className="muted">{t.login.intro}</p>
        <LoginForm next={next} labels={t.login} errors={t.errors} />
        <p className="muted small">
          {t.j.signup.noAccount} <Link href="/signup">{t.j.nav.signup}</Link>
        </p>
      </div>
    </section>
  );
}
