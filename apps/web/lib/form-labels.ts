import type { FormLabels } from './form-state';
import type { Dict } from './i18n/en';

/** The strings `<LiveForm>` needs (Client Components get strings only). */
export function formLabels(t: Dict): FormLabels {
  return {
    ...t.j.form,
    codes: t.errors.codes,
    title: t.errors.title,
    reference: t.errors.reference,
    unavailable: t.errors.unavailable,
  };
}
