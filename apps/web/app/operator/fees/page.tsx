import type { Metadata } from 'next';
import { ErrorBox } from '@/components/error-box';
import { Field, LiveForm } from '@/components/live-form';
import { OperatorNav } from '@/components/operator-nav';
import { call, marketApi } from '@/lib/client';
import { formLabels } from '@/lib/form-labels';
import { formatDateTime, formatPercent } from '@/lib/format';
import { getI18n } from '@/lib/i18n/server';
import { setFees } from '@/lib/journey-actions';
import { requireSession } from '@/lib/session';

export async function generateMetadata(): Promise<Metadata> {
  const { t } = await getI18n();
  return { title: t.j.fees.heading };
}

export default async function FeesPage() {
  const session = await requireSession('/operator/fees');
  const { lang, t } = await getI18n();
  const f = t.j.fees;
  const result = await call(marketApi(session.token).GET('/v1/admin/fees'));
  return (
    <>
      <section className="page-head">
        <h1>{f.heading}</h1>
        <p className="lead">{f.intro}</p>
      </section>
      <OperatorNav t={t} current="fees" />
      {!result.ok ? (
        <ErrorBox error={result.error} labels={t.errors} />
      ) : (
        <div className="two-col">
          <section className="card">
            <dl className="facts">
              <dt>{f.current}</dt>
              <dd className="amount big" data-testid="take-rate" data-rate={result.data.takeRate}>
                {f.percent(formatPercent(result.data.takeRate))}
              </dd>
              <dt>{f.source}</dt>
              <dd>{f.sources[result.data.source] ?? result.data.source}</dd>
            </dl>
            <LiveForm
              action={setFees}
              labels={formLabels(t)}
              submit={f.submit}
              pending={f.submitting}
              testId="fees-form"
            >
              <Field
                name="takeRate"
                label={f.takeRate}
                required
                inputMode="decimal"
                pattern="0(\.[0-9]{1,6})?"
                patternMessage={f.takeRateHint}
                hint={f.takeRateHint}
                defaultValue={result.data.takeRate}
                maxLength={8}
              />
              <Field name="note" label={f.note} maxLength={500} />
            </LiveForm>
          </section>
          <section className="card">
            <h2>{f.history}</h2>
            {result.data.history.length === 0 ? (
              <p className="empty">{f.noHistory}</p>
            ) : (
              <div className="table-wrap">
                <table className="table" data-testid="fee-history">
                  <thead>
                    <tr>
                      <th scope="col">{f.effective}</th>
                      <th scope="col" className="num">
                        {f.takeRate}
                      </th>
                      <th scope="col">{f.note}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {result.data.history.map((h) => (
                      <tr key={`${h.effectiveFrom}-${h.takeRate}-${h.note}`}>
                        <td>{formatDateTime(h.effectiveFrom, lang)}</td>
                        <td className="num">{f.percent(formatPercent(h.takeRate))}</td>
                        <td>{h.note}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </section>
        </div>
      )}
    </>
  );
}
