import type { Metadata } from 'next';
import { redirect } from 'next/navigation';
import { ErrorBox } from '@/components/error-box';
import { CheckGroup, Field, LiveForm } from '@/components/live-form';
import { OperatorNav } from '@/components/operator-nav';
import { call, marketApi } from '@/lib/client';
import { formLabels } from '@/lib/form-labels';
import { formatDate } from '@/lib/format';
import { getI18n } from '@/lib/i18n/server';
import { admitOrganization, grantRoles } from '@/lib/journey-actions';
import { one, type SearchParams } from '@/lib/params';
import { loginUrl, requireSession } from '@/lib/session';

const ROLES = ['buyer', 'seller', 'assessor', 'operator'] as const;
type Role = (typeof ROLES)[number];

export async function generateMetadata(): Promise<Metadata> {
  const { t } = await getI18n();
  return { title: t.j.members.heading };
}

export default async function MembersPage({
  searchParams,
}: {
  searchParams: Promise<SearchParams>;
}) {
  const session = await requireSession('/operator/members');
  const sp = await searchParams;
  const role = (ROLES as readonly string[]).includes(one(sp, 'role'))
    ? (one(sp, 'role') as Role)
    : undefined;
  const q = one(sp, 'q').slice(0, 100);
  const { lang, t } = await getI18n();
  const m = t.j.members;
  const result = await call(
    marketApi(session.token).GET('/v1/admin/organizations', {
      params: { query: { ...(role ? { role } : {}), ...(q ? { q } : {}) } },
    }),
  );
  if (!result.ok && result.error.status === 401) redirect(loginUrl('/operator/members'));
  const roleOptions = ROLES.map((r) => ({ value: r, label: m.roleNames[r] ?? r }));
  return (
    <>
      <section className="page-head">
        <h1>{m.heading}</h1>
        <p className="lead">{m.intro}</p>
      </section>
      <OperatorNav t={t} current="members" />
      <form className="filters card" method="get" action="/operator/members" aria-label={m.apply}>
        <label>
          <span>{m.filter}</span>
          <select name="role" defaultValue={role ?? ''}>
            <option value="">{m.all}</option>
            {roleOptions.map((o) => (
              <option key={o.value} value={o.value}>
                {o.label}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span>{m.search}</span>
          <input type="search" name="q" defaultValue={q} maxLength={100} />
        </label>
        <div className="filter-actions">
          <button type="submit" className="button">
            {m.apply}
          </button>
        </div>
      </form>
      {!result.ok ? (
        <ErrorBox error={result.error} labels={t.errors} />
      ) : result.data.items.length === 0 ? (
        <p className="empty">{m.empty}</p>
      ) : (
        <div className="table-wrap">
          <table className="table" data-testid="members">
            <thead>
              <tr>
                <th scope="col">{m.name}</th>
                <th scope="col">{m.roles}</th>
                <th scope="col" className="num">
                  {m.members}
                </th>
                <th scope="col">{m.since}</th>
              </tr>
            </thead>
            <tbody>
              {result.data.items.map((o) => (
                <tr key={o.id} data-org-id={o.id}>
                  <td>
                    <strong>{o.name}</strong>
                    <div className="muted small mono">{o.id}</div>
                  </td>
                  <td data-testid="member-roles">
                    {o.roles.map((r) => m.roleNames[r] ?? r).join(' · ')}
                  </td>
                  <td className="num">{o.members}</td>
                  <td>{formatDate(o.createdAt, lang)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <div className="two-col">
        <section className="card">
          <h2>{m.admit}</h2>
          <p className="muted small">{m.admitIntro}</p>
          <LiveForm
            action={admitOrganization}
            labels={formLabels(t)}
            submit={m.submit}
            pending={m.submitting}
            testId="admit-form"
          >
            <Field name="organization.name" label={m.orgName} required maxLength={200} />
            <CheckGroup
              name="organization.roles"
              legend={m.roles}
              options={roleOptions.map((o) => ({ ...o, checked: o.value === 'buyer' }))}
            />
            <Field name="displayName" label={m.displayName} required maxLength={100} />
            <Field name="email" label={m.email} type="email" required maxLength={254} />
            <Field
              name="password"
              label={m.password}
              type="password"
              required
              minLength={10}
              maxLength={200}
              autoComplete="new-password"
            />
            <Field
              name="organization.industry"
              label={t.j.signup.industry}
              defaultValue="I"
              options={Object.entries(t.j.signup.industries).map(([value, label]) => ({
                value,
                label,
              }))}
            />
          </LiveForm>
        </section>
        {result.ok && result.data.items.length > 0 ? (
          <section className="card">
            <h2>{m.grant}</h2>
            <LiveForm
              action={grantRoles}
              labels={formLabels(t)}
              submit={m.grant}
              pending={m.granting}
              testId="grant-form"
            >
              <Field
                name="orgId"
                label={m.name}
                options={result.data.items.map((o) => ({ value: o.id, label: o.name }))}
              />
              <CheckGroup name="roles" legend={m.roles} options={roleOptions} />
            </LiveForm>
          </section>
        ) : null}
      </div>
    </>
  );
}
