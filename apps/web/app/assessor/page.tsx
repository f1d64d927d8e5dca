import type { Metadata } from 'next';
import { redirect } from 'next/navigation';
import { ErrorBox } from '@/components/error-box';
import {
  publishJws,
  registerKey,
  retireKey,
  revokeEvaluation,
  signAndPublish,
} from '@/lib/assessor-actions';
import { formatDateTime } from '@/lib/format';
import { getI18n } from '@/lib/i18n/server';
import { one, type SearchParams } from '@/lib/params';
import { loginUrl, requireSession } from '@/lib/session';
import { call, marketApi } from '@/lib/client';

const PATH = '/assessor';
const NOTICES = ['published', 'keyRegistered', 'keyRetired', 'revoked'] as const;

export async function generateMetadata(): Promise<Metadata> {
  const { t } = await getI18n();
  return { title: t.assessor.heading };
}

export default async function AssessorPortal({
  searchParams,
}: {
  searchParams: Promise<SearchParams>;
}) {
  const sp = await searchParams;
  const { lang, t } = await getI18n();
  const a = t.assessor;
  const session = await requireSession(PATH);
  if (!session.profile?.roles.includes('assessor')) {
    return (
      <section className="page-head">
        <h1>{a.heading}</h1>
        <p className="lead">{a.notAssessor}</p>
      </section>
    );
  }
  const me = await call(marketApi(session.token).GET('/v1/assessors/me'));
  if (!me.ok && me.error.status === 401) redirect(loginUrl(PATH));
  if (!me.ok) return <ErrorBox error={me.error} labels={t.errors} />;
  const [evaluations, methods] = await Promise.all([
    call(marketApi().GET('/v1/evaluations', { params: { query: { assessor: me.data.orgId } } })),
    call(marketApi().GET('/v1/evaluation-methods')),
  ]);
  const notice = NOTICES.find((n) => n === one(sp, 'notice'));
  const error = one(sp, 'error');

  return (
    <>
      <section className="page-head">
        <h1>{a.heading}</h1>
        <p className="lead">{a.intro}</p>
        <p className="muted">
          {me.data.name} · {a.level}: {me.data.accreditationLevel} · {a.weight}:{' '}
          <span data-testid="assessor-weight">{me.data.weight.toFixed(3)}</span>
        </p>
      </section>

      {notice ? (
        <div className="notice" role="status" data-testid="assessor-notice">
          <strong className="notice-title">{a[notice]}</strong>
        </div>
      ) : null}
      {error ? (
        <ErrorBox error={{ code: error, message: one(sp, 'message') }} labels={t.errors} />
      ) : null}

      <section className="card" aria-labelledby="keys-heading">
        <h2 id="keys-heading">{a.keys}</h2>
        {me.data.keys.length === 0 ? (
          <p className="muted">{a.noKeys}</p>
        ) : (
          <div className="table-wrap">
            <table className="table compact" data-testid="assessor-keys">
              <thead>
                <tr>
                  <th scope="col">{a.kid}</th>
                  <th scope="col">{a.algorithm}</th>
                  <th scope="col">{a.status}</th>
                  <th scope="col">{a.created}</th>
                  <th scope="col">{a.retired}</th>
                  <th scope="col">
                    <span className="sr-only">{a.retire}</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {me.data.keys.map((k) => (
                  <tr key={k.kid} data-kid={k.kid}>
                    <td className="mono small">{k.kid}</td>
                    <td>
                      {String(k.publicJwk.alg ?? '')} ({String(k.publicJwk.crv ?? '')})
                    </td>
                    <td>
                      <span
                        className={`badge badge-${k.status === 'active' ? 'active' : 'closed'}`}
                      >
                        {a.statuses[k.status] ?? k.status}
                      </span>
                    </td>
                    <td>{formatDateTime(k.createdAt, lang)}</td>
                    <td>{formatDateTime(k.retiredAt, lang)}</td>
                    <td>
                      {k.status === 'active' ? (
                        <form action={retireKey}>
                          <input type="hidden" name="kid" value={k.kid} />
                          <button type="submit" className="button button-small button-ghost">
                            {a.retire}
                          </button>
                        </form>
                      ) : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <form action={registerKey} className="stack" aria-label={a.registerKey}>
          <h3>{a.registerKey}</h3>
          <label>
            <span>{a.publicJwk}</span>
            <textarea name="publicJwk" rows={4} className="mono" spellCheck={false} />
          </label>
          <label className="inline">
            <input type="checkbox" name="rotate" /> <span>{a.rotate}</span>
          </label>
          <div>
            <button type="submit" className="button">
              {a.register}
            </button>
          </div>
        </form>
      </section>

      <div className="grid">
        <section className="card">
          <form action={publishJws} className="stack" aria-label={a.publishJws}>
            <h2>{a.publishJws}</h2>
            <p className="muted small">{a.publishJwsHelp}</p>
            <label>
              <span>{a.jws}</span>
              <textarea name="jws" rows={5} className="mono" spellCheck={false} />
            </label>
            <label>
              <span>{a.jwsFile}</span>
              <input type="file" name="jwsFile" accept=".jws,.txt,application/jose" />
            </label>
            <div>
              <button type="submit" className="button">
                {a.publish}
              </button>
            </div>
          </form>
        </section>

        <section className="card">
          <form action={signAndPublish} className="stack" aria-label={a.signForm}>
            <h2>{a.signForm}</h2>
            <p className="muted small">{a.signFormHelp}</p>
            <label>
              <span>{a.subject}</span>
              <input type="text" name="subject" required maxLength={200} className="mono" />
            </label>
            <label>
              <span>{a.method}</span>
              <select name="method">
                {(methods.ok ? methods.data.items : []).map((m) => (
                  <option key={m.id} value={m.id}>
                    {m.id}
                  </option>
                ))}
              </select>
            </label>
            <label>
              <span>{a.availability}</span>
              <input type="text" name="availability" inputMode="decimal" maxLength={16} />
            </label>
            <label>
              <span>{a.perfRatio}</span>
              <input type="text" name="perf_ratio" inputMode="decimal" maxLength={16} />
            </label>
            <label>
              <span>{a.latency}</span>
              <input type="text" name="latency_ms_p50" inputMode="decimal" maxLength={16} />
            </label>
            <label>
              <span>{a.security}</span>
              <select name="security" defaultValue="">
                <option value="">{a.securityNone}</option>
                <option value="pass">pass</option>
                <option value="fail">fail</option>
              </select>
            </label>
            <label>
              <span>{a.summary}</span>
              <textarea name="summary" rows={2} maxLength={1000} />
            </label>
            <label>
              <span>{a.validDays}</span>
              <input type="number" name="validDays" min={1} max={365} defaultValue={30} />
            </label>
            <label>
              <span>{a.privateJwk}</span>
              <textarea
                name="privateJwk"
                rows={4}
                className="mono"
                spellCheck={false}
                autoComplete="off"
              />
            </label>
            <label>
              <span>{a.privateJwkFile}</span>
              <input type="file" name="privateJwkFile" accept=".json,.jwk" />
            </label>
            <div>
              <button type="submit" className="button">
                {a.signAndPublish}
              </button>
            </div>
          </form>
        </section>
      </div>

      <section className="card" aria-labelledby="history-heading">
        <h2 id="history-heading">{a.history}</h2>
        {!evaluations.ok ? (
          <ErrorBox error={evaluations.error} labels={t.errors} />
        ) : evaluations.data.items.length === 0 ? (
          <p className="muted">{a.noEvaluations}</p>
        ) : (
          <div className="table-wrap">
            <table className="table compact" data-testid="assessor-history">
              <thead>
                <tr>
                  <th scope="col">{a.subject}</th>
                  <th scope="col">{a.method}</th>
                  <th scope="col">{a.metrics}</th>
                  <th scope="col">{a.issued}</th>
                  <th scope="col">{a.expires}</th>
                  <th scope="col">{a.status}</th>
                  <th scope="col">
                    <span className="sr-only">{a.revoke}</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {evaluations.data.items.map((e) => (
                  <tr key={e.id} data-evaluation-id={e.id}>
                    <td className="mono small">{e.subject.ref}</td>
                    <td>{e.method}</td>
                    <td className="small">
                      {Object.entries(e.metrics)
                        .map(([k, v]) => `${k}=${v}`)
                        .join(', ')}
                    </td>
                    <td>{formatDateTime(e.issuedAt, lang)}</td>
                    <td>{formatDateTime(e.expiresAt, lang)}</td>
                    <td>
                      <span
                        className={`badge badge-${e.status === 'active' ? 'active' : 'closed'}`}
                        data-testid="evaluation-status"
                      >
                        {a.statuses[e.status] ?? e.status}
                      </span>
                    </td>
                    <td>
                      {e.status === 'active' ? (
                        <form action={revokeEvaluation} className="inline-form">
                          <input type="hidden" name="id" value={e.id} />
                          <input
                            type="text"
                            name="reason"
                            placeholder={a.revokeReason}
                            aria-label={a.revokeReason}
                            maxLength={500}
                          />
                          <button type="submit" className="button button-small button-ghost">
                            {a.revoke}
                          </button>
                        </form>
                      ) : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </>
  );
}
