import type { Metadata } from 'next';
import { ErrorBox } from '@/components/error-box';
import { Field, LiveForm } from '@/components/live-form';
import { OperatorNav } from '@/components/operator-nav';
import { call, marketApi } from '@/lib/client';
import { formLabels } from '@/lib/form-labels';
import { formatDate } from '@/lib/format';
import { getI18n } from '@/lib/i18n/server';
import { accreditAssessor } from '@/lib/journey-actions';
import { requireSession } from '@/lib/session';

export async function generateMetadata(): Promise<Metadata> {
  const { t } = await getI18n();
  return { title: t.j.assessors.heading };
}

export default async function AssessorsPage() {
  const session = await requireSession('/operator/assessors');
  const { lang, t } = await getI18n();
  const a = t.j.assessors;
  const api = marketApi(session.token);
  const orgs = await call(
    api.GET('/v1/admin/organizations', { params: { query: { role: 'assessor' } } }),
  );
  const profiles = orgs.ok
    ? await Promise.all(
        orgs.data.items.map((o) =>
          call(api.GET('/v1/assessors/{orgId}', { params: { path: { orgId: o.id } } })),
        ),
      )
    : [];
  return (
    <>
      <section className="page-head">
        <h1>{a.heading}</h1>
        <p className="lead">{a.intro}</p>
      </section>
      <OperatorNav t={t} current="assessors" />
      {!orgs.ok ? (
        <ErrorBox error={orgs.error} labels={t.errors} />
      ) : orgs.data.items.length === 0 ? (
        <p className="empty">{a.empty}</p>
      ) : (
        <>
          <div className="table-wrap">
            <table className="table" data-testid="assessors">
              <thead>
                <tr>
                  <th scope="col">{t.j.members.name}</th>
                  <th scope="col" className="num">
                    {a.level}
                  </th>
                  <th scope="col" className="num">
                    {a.keys}
                  </th>
                  <th scope="col">{t.j.members.since}</th>
                </tr>
              </thead>
              <tbody>
                {orgs.data.items.map((o, i) => {
                  const p = profiles[i];
                  return (
                    <tr key={o.id} data-org-id={o.id}>
                      <td>
                        <strong>{o.name}</strong>
                      </td>
                      <td className="num" data-testid="assessor-level">
                        {p?.ok ? String(p.data.accreditationLevel ?? '—') : '—'}
                      </td>
                      <td className="num">{p?.ok ? p.data.keys.length : '—'}</td>
                      <td>{formatDate(o.createdAt, lang)}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
          <section className="card narrow-card">
            <h2>{a.accredit}</h2>
            <LiveForm
              action={accreditAssessor}
              labels={formLabels(t)}
              submit={a.accredit}
              pending={a.accrediting}
              testId="accredit-form"
            >
              <Field
                name="orgId"
                label={t.j.members.name}
                options={orgs.data.items.map((o) => ({ value: o.id, label: o.name }))}
              />
              <Field
                name="level"
                label={a.level}
                type="number"
                min={1}
                max={3}
                required
                defaultValue="1"
                hint={a.levelHint}
              />
            </LiveForm>
          </section>
        </>
      )}
    </>
  );
}
