import { getI18n } from '@/lib/i18n/server';

/** Shown while a page's data loads (every route segment below the root). */
export default async function Loading() {
  const { t } = await getI18n();
  return (
    <div className="loading" role="status" aria-live="polite" data-testid="loading">
      <span className="spinner" aria-hidden="true" />
      <span>{t.j.loading}</span>
    </div>
  );
}
