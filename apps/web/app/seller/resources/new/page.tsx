import type { Metadata } from 'next';
import { Field, LiveForm } from '@/components/live-form';
import { formLabels } from '@/lib/form-labels';
import { getI18n } from '@/lib/i18n/server';
import { registerResource } from '@/lib/journey-actions';
import { requireSession } from '@/lib/session';

export async function generateMetadata(): Promise<Metadata> {
  const { t } = await getI18n();
  return { title: t.j.resourceForm.heading };
}

export default async function NewResourcePage() {
  await requireSession('/seller/resources/new');
  const { t } = await getI18n();
  const r = t.j.resourceForm;
  return (
    <section className="narrow wide-form">
      <div className="card">
        <h1>{r.heading}</h1>
        <p className="muted">{r.intro}</p>
        <LiveForm
          action={registerResource}
          labels={formLabels(t)}
          submit={r.submit}
          pending={r.submitting}
          testId="resource-form"
        >
          <Field name="name" label={r.name} required maxLength={200} />
          <div className="row">
            <Field
              name="class"
              label={r.class}
              defaultValue="AI"
              options={['AI', 'HPC', 'GEN'].map((c) => ({ value: c, label: t.classes[c] ?? c }))}
            />
            <Field
              name="form"
              label={r.form}
              defaultValue="BM"
              options={['BM', 'VM', 'CTR', 'API', 'JOB'].map((f) => ({
                value: f,
                label: t.forms[f] ?? f,
              }))}
            />
          </div>
          <div className="row">
            <Field
              name="location.country"
              label={r.country}
              required
              pattern="[A-Za-z]{2}"
              patternMessage={r.countryHint}
              hint={r.countryHint}
              maxLength={2}
            />
            <Field
              name="location.subdivision"
              label={r.subdivision}
              required
              pattern="[A-Za-z0-9]{1,3}"
              patternMessage={r.subdivisionHint}
              hint={r.subdivisionHint}
              maxLength={3}
            />
            <Field
              name="location.site"
              label={r.site}
              required
              pattern="[A-Za-z0-9]{1,8}"
              patternMessage={r.siteHint}
              hint={r.siteHint}
              maxLength={8}
            />
          </div>
          <div className="row">
            <Field name="spec.cpu" label={r.cpu} type="number" min={1} max={4096} />
            <Field name="spec.memGiB" label={r.mem} type="number" min={1} max={65536} />
            <Field name="spec.storageGiB" label={r.storage} type="number" min={1} max={10000000} />
          </div>
          <div className="row">
            <Field name="spec.accel.count" label={r.accelCount} type="number" min={1} max={1024} />
            <Field
              name="spec.accel.model"
              label={r.accelModel}
              pattern="[A-Z0-9]{1,16}"
              patternMessage={r.accelModelHint}
              hint={r.accelModelHint}
              maxLength={16}
            />
            <Field
              name="capacity"
              label={r.capacity}
              type="number"
              min={1}
              max={1024}
              defaultValue="1"
              required
            />
          </div>
        </LiveForm>
      </div>
    </section>
  );
}
