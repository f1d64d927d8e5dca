import type { Metadata } from 'next';
import Link from 'next/link';
import { CriForm } from '@/components/cri-form';
import { CriSegmentError } from '@/components/cri-segments';
import { ErrorBox } from '@/components/error-box';
import { classForm, regionOf, specLines } from '@/components/offer-bits';
import { formatDateTime } from '@/lib/format';
import { getI18n } from '@/lib/i18n/server';
import { criHref, decodeParam } from '@/lib/params';
import { call, marketApi } from '@/lib/client';

interface Props {
  params: Promise<{ code: string[] }>;
}

/** A CRI is one segment; a handle (`<registrant>/<serial>`) is two. */
async function codeOf(params: Props['params']): Promise<string> {
  return (await params).code.map(decodeParam).join('/').trim();
}

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const { t } = await getI18n();
  return { title: `${t.cri.heading}: ${await codeOf(params)}` };
}

const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

export default async function CriPage({ params }: Props) {
  const code = await codeOf(params);
  const { lang, t } = await getI18n();
  const result = await call(marketApi().GET('/v1/cri/{code}', { params: { path: { code } } }));
  const segment = !result.ok ? text(result.error.details?.segment) : undefined;

  return (
    <>
      <section className="page-head">
        <h1>{t.cri.heading}</h1>
        <p className="lead">{t.cri.intro}</p>
      </section>
      <CriForm t={t} value={code} />
      {!result.ok ? (
        result.error.code === 'invalid_cri' && segment ? (
          <CriSegmentError
            code={code}
            segment={segment}
            reason={text(result.error.details?.reason) ?? result.error.message}
            expected={text(result.error.details?.expected)}
            t={t}
          />
        ) : (
          <ErrorBox error={result.error} labels={t.errors} />
        )
      ) : (
        <section className="card">
          <h2>
            {result.data.name}{' '}
            <span
              className={`badge badge-${result.data.liveStatus}`}
              data-testid="live-status"
              data-status={result.data.liveStatus}
            >
              {t.cri.live[result.data.liveStatus] ?? result.data.liveStatus}
            </span>
          </h2>
          {result.data.resolved && !result.data.resolved.current ? (
            <p className="notice" data-testid="superseded">
              {t.cri.superseded(result.data.cri)}{' '}
              <Link href={criHref(result.data.cri)} className="mono">
                {result.data.cri}
              </Link>
            </p>
          ) : null}
          <dl className="facts">
            <dt>{t.cri.code}</dt>
            <dd className="mono" data-testid="resolved-cri">
              {result.data.cri}
            </dd>
            <dt>{t.cri.handle}</dt>
            <dd className="mono">{result.data.handle}</dd>
            <dt>{t.cri.revision}</dt>
            <dd>{result.data.revision}</dd>
            <dt>{t.cri.classForm}</dt>
            <dd>{classForm(result.data, t)}</dd>
            <dt>{t.cri.location}</dt>
            <dd>
              {regionOf(result.data.location)} · {result.data.location.site}
            </dd>
            <dt>{t.cri.specs}</dt>
            <dd>
              <ul className="plain">
                {specLines(result.data.spec, t).map((line) => (
                  <li key={line}>{line}</li>
                ))}
              </ul>
            </dd>
            <dt>{t.cri.capacity}</dt>
            <dd>{result.data.capacity}</dd>
            <dt>{t.cri.state}</dt>
            <dd data-testid="lifecycle">{t.cri.states[result.data.state] ?? result.data.state}</dd>
            <dt>{t.cri.lastHeartbeat}</dt>
            <dd>{formatDateTime(result.data.lastHeartbeatAt, lang)}</dd>
            {result.data.accessPath ? (
              <>
                <dt>{t.cri.accessPath}</dt>
                <dd>
                  {result.data.accessPath.region} · {result.data.accessPath.site} ·{' '}
                  {t.cri.endpointKinds[result.data.accessPath.endpointKind] ??
                    result.data.accessPath.endpointKind}
                </dd>
              </>
            ) : null}
            <dt>{t.cri.registered}</dt>
            <dd>{formatDateTime(result.data.createdAt, lang)}</dd>
          </dl>
        </section>
      )}
    </>
  );
}
