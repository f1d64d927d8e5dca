import type { Metadata } from 'next';
import { notFound } from 'next/navigation';
import { AgentEnrolForm } from '@/components/agent-enrol-form';
import { ErrorBox } from '@/components/error-box';
import { classForm } from '@/components/offer-bits';
import { call, marketApi } from '@/lib/client';
import { formLabels } from '@/lib/form-labels';
import { getI18n } from '@/lib/i18n/server';
import { requireSession } from '@/lib/session';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function generateMetadata(): Promise<Metadata> {
  const { t } = await getI18n();
  return { title: t.j.agent.heading };
}

export default async function EnrolAgentPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  if (!UUID.test(id)) notFound();
  const session = await requireSession(`/seller/resources/${id}/agent`);
  const { t } = await getI18n();
  const a = t.j.agent;
  const result = await call(
    marketApi(session.token).GET('/v1/resources/{id}', { params: { path: { id } } }),
  );
  return (
    <section className="narrow wide-form">
      <div className="card">
        <h1>{a.heading}</h1>
        <p className="muted">{a.intro}</p>
        {!result.ok ? (
          result.error.status === 404 ? (
            <p className="empty">{a.notFound}</p>
          ) : (
            <ErrorBox error={result.error} labels={t.errors} />
          )
        ) : (
          <>
            <dl className="facts">
              <dt>{a.resource}</dt>
              <dd>
                <strong>{result.data.name}</strong> · {classForm(result.data, t)}
                <div className="mono small" data-testid="agent-resource-cri">
                  {result.data.cri}
                </div>
              </dd>
            </dl>
            <AgentEnrolForm
              resourceId={result.data.id}
              cri={result.data.cri}
              resourceClass={result.data.class}
              labels={formLabels(t)}
              text={{
                submit: a.submit,
                submitting: a.submitting,
                command: a.command,
                once: a.once,
                agentId: a.agentId,
                copy: a.copy,
                copied: a.copied,
              }}
            />
          </>
        )}
      </div>
    </section>
  );
}
