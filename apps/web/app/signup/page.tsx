import type { Metadata } from 'next';
import Link from 'next/link';
import { redirect } from 'next/navigation';
import { CheckGroup, Field, LiveForm } from '@/components/live-form';
import { formLabels } from '@/lib/form-labels';
import { getI18n } from '@/lib/i18n/server';
import { signUp } from '@/lib/journey-actions';
import { getSession } from '@/lib/session';

export async function generateMetadata(): Promise<Metadata> {
  const { t } = await getI18n();
  return { title: t.j.signup.heading };
}

export default async function SignUpPage() {
  if (await getSession()) redirect('/');
  const { t } = await getI18n();
  const s = t.j.signup;
  return (
    <section className="narrow">
      <div className="card">
        <h1>{s.heading}</h1>
        <p className="muted">{s.intro}</p>
        <LiveForm
          action={signUp}
          labels={formLabels(t)}
          submit={s.submit}
          pending={s.submitting}
          testId="signup-form"
        >
          <Field
            name="email"
            label={s.email}
            type="email"
            required
            maxLength={254}
            autoComplete="email"
          />
          <Field
            name="password"
            label={s.password}
            type="password"
            required
            minLength={10}
            maxLength={200}
            hint={s.passwordHint}
            autoComplete="new-password"
          />
          <Field
            name="displayName"
            label={s.displayName}
            required
            maxLength={100}
            autoComplete="name"
          />
          <Field
            name="organization.name"
            label={s.orgName}
            required
            maxLength={200}
            autoComplete="organization"
          />
          <CheckGroup
            name="organization.roles"
            legend={s.roles}
            options={[
              { value: 'buyer', label: s.buyer, checked: true },
              { value: 'seller', label: s.seller },
            ]}
          />
          <Field
            name="organization.industry"
            label={s.industry}
            defaultValue="I"
            options={Object.entries(s.industries).map(([value, label]) => ({ value, label }))}
          />
        </LiveForm>
        <p className="muted small">
          {s.haveAccount} <Link href="/login">{t.nav.login}</Link>
        </p>
      </div>
    </section>
  );
}
