import Link from 'next/link';
import { getI18n } from '@/lib/i18n/server';

export default async function NotFound() {
  const { t } = await getI18n();
  return (
    <section className="narrow">
      <div className="card">
        <h1>{t.errors.notFoundTitle}</h1>
        <p className="muted">{t.errors.notFound}</p>
        <p>
          <Link href="/" className="button">
            {t.errors.backHome}
          </Link>
        </p>
      </div>
    </section>
  );
}
