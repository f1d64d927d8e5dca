'use client';

import { useState } from 'react';
import { enrolAgent } from '@/lib/journey-actions';
import type { FormLabels } from '@/lib/form-state';
import { LiveForm } from './live-form';

interface Text {
  submit: string;
  submitting: string;
  command: string;
  once: string;
  agentId: string;
  copy: string;
  copied: string;
}

function CopyButton({ text, labels }: { text: string; labels: Text }) {
  const [copied, setCopied] = useState(false);
  return (
    <button
      type="button"
      className="button button-small button-ghost"
      onClick={() => {
        void navigator.clipboard?.writeText(text).then(() => setCopied(true));
      }}
    >
      {copied ? labels.copied : labels.copy}
    </button>
  );
}

/** Generates the agent's key on the server and shows the command with it, once. */
export function AgentEnrolForm(props: {
  resourceId: string;
  cri: string;
  resourceClass: string;
  labels: FormLabels;
  text: Text;
}) {
  const { text } = props;
  return (
    <LiveForm
      action={enrolAgent}
      labels={props.labels}
      submit={text.submit}
      pending={text.submitting}
      testId="agent-form"
      resultView={(result) => (
        <section className="agent-command" data-testid="agent-command">
          <h2>{text.command}</h2>
          <p className="notice notice-warn" role="note">
            {text.once}
          </p>
          <p className="small">
            {text.agentId}: <code data-testid="agent-id">{result.agentId}</code>
          </p>
          <pre className="command" tabIndex={0}>
            <code>{result.command}</code>
          </pre>
          <CopyButton text={result.command ?? ''} labels={text} />
        </section>
      )}
    >
      <input type="hidden" name="resourceId" value={props.resourceId} />
      <input type="hidden" name="cri" value={props.cri} />
      <input type="hidden" name="class" value={props.resourceClass} />
    </LiveForm>
  );
}
