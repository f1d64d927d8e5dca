import type { Dict } from '@/lib/i18n/en';

export interface ErrorLike {
  code: string;
  message: string;
  correlationId?: string;
}

/** An API error as a readable notice: a translated title, the API's message, its reference. */
export function ErrorBox({ error, labels }: { error: ErrorLike; labels: Dict['errors'] }) {
  const title = labels.codes[error.code] ?? labels.title;
  const message = error.message || (error.code === 'unavailable' ? labels.unavailable : '');
  return (
    <div className="notice notice-error" role="alert">
      <strong className="notice-title">{title}</strong>
      {message ? <p className="notice-body">{message}</p> : null}
      {error.correlationId ? (
        <p className="notice-ref">
          {labels.reference}: <code>{error.correlationId}</code>
        </p>
      ) : null}
    </div>
  );
}
