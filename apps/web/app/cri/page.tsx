import type { Metadata } from 'next';
import { redirect } from 'next/navigation';
import { CriForm } from '@/components/cri-form';
import { getI18n } from '@/lib/i18n/server';
import { criHref, one, type SearchParams } from '@/lib/params';

export async function generateMetadata(): Promise<Metadata> {
  const { t } = await getI18n();
  return { title: t.cri.heading };
}

export default async function CriLookupPage({
  searchParams,
}: {
  searchParams: Promise<SearchParams>;
}) {
  const code = one(await searchParams, 'code');
  if (code) redirect(criHref(code));
  const { t } = await getI18n();
  return (
    <>
      <section className="page-head">
        <h1>{t.cri.heading}</h1>
        <p className="lead">{t.cri.intro}</p>
      </section>
      <CriForm t={t} />
    </>
  );
}
