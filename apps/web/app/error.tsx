'use client';

/**
 * Last-resort boundary for unexpected rendering failures (API errors are shown in the pages).
 * Client Components cannot read the language cookie on the server, so this one is bilingual.
 */
export default function ErrorPage({
  error,
  reset,
}: {
  error: Error & { digest?: string };
  reset: () => void;
}) {
  return (
    <section className="narrow">
      <div className="card">
        <h1>
          出错了 <span className="muted">· Something went wrong</span>
        </h1>
        <p className="muted">
          页面暂时无法显示，请稍后重试。 The page could not be displayed; please try again.
        </p>
        {error.digest ? (
          <p className="notice-ref">
            追踪编号 Reference: <code>{error.digest}</code>
          </p>
        ) : null}
        <p>
          <button type="button" className="button" onClick={reset}>
            重试 Try again
          </button>
        </p>
      </div>
    </section>
  );
}
