import type { Dict } from '@/lib/i18n';

/** GET form to /cri?code=…; the page redirects to /cri/<code>. Works without JavaScript. */
export function CriForm({ t, value }: { t: Dict; value?: string }) {
  return (
    <form className="inline-form card" method="get" action="/cri">
      <label>
        <span>{t.cri.code}</span>
        <input
          type="text"
          name="code"
          defaultValue={value}
          placeholder={t.cri.placeholder}
          required
          maxLength={128}
          className="mono"
          spellCheck={false}
          autoCapitalize="characters"
        />
      </label>
      <button type="submit" className="button">
        {t.cri.resolve}
      </button>
    </form>
  );
}
