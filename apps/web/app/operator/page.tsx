import type { Metadata } from 'next';
import Link from 'next/link';
import { OPERATOR_PAGES } from '@/components/operator-nav';
import { getI18n } from '@/lib/i18n/server';
import { requireSession } from '@/lib/session';

export async function generateMetadata(): Promise<Metadata> {
  const { t } = await getI18n();
  return { title: t.j.operator.heading };
}

export default async function OperatorPage() {
  await requireSession('/operator');
  const { t } = await getI18n();
  const o = t.j.operator;
  return (
    <>
      <section className="page-head">
        <h1>{o.heading}</h1>
        <p className="lead">{o.intro}</p>
      </section>
      <ul className="tiles">
        {OPERATOR_PAGES.map(([key, href]) => (
          <li key={key}>
            <Link href={href} className="card tile">
              {o[key]}
            </Link>
          </li>
        ))}
      </ul>
    </>
  );
}
