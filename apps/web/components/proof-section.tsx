import type { RecordBundleView } from '@suanli/contracts';
import type { JSONWebKeySet } from '@suanli/crypto';
import { TransparencyError, verifyRecord } from '@suanli/transparency';
import { apiBaseUrl } from '@/lib/api';
import { call, marketApi } from '@/lib/client';
import { formatDateTime } from '@/lib/format';
import type { Dict } from '@/lib/i18n/en';

type Lang = Parameters<typeof formatDateTime>[1];

/** Hashes and the command wrap anywhere: the section fits a phone's width without scrolling. */
const WRAP = { overflowWrap: 'anywhere' } as const;

/**
 * The invoice's settlement-log proof: leaf, inclusion proof and signed checkpoint, verified here
 * on the server against the exchange's published JWKS, with the JSON to check offline.
 */
export async function ProofSection({
  invoice,
  t,
  lang,
}: {
  invoice: object;
  t: Dict['privacy']['proof'];
  lang: Lang;
}) {
  const bundle = (invoice as { transparency?: RecordBundleView | null }).transparency;
  if (!bundle) {
    return (
      <section className="card proof" id="verify" data-testid="proof">
        <h2>{t.heading}</h2>
        <p className="muted">{t.unavailable}</p>
      </section>
    );
  }
  let outcome:
    { ok: true; timestamp: string; kid: string; rootHash: string } | { ok: false; reason: string };
  const jwks = await call(marketApi().GET('/.well-known/jwks.json'));
  if (!jwks.ok) {
    outcome = { ok: false, reason: jwks.error.code };
  } else {
    try {
      const cp = await verifyRecord(bundle, jwks.data as JSONWebKeySet);
      outcome = { ok: true, timestamp: cp.timestamp, kid: cp.kid, rootHash: cp.rootHash };
    } catch (e) {
      outcome = {
        ok: false,
        reason: e instanceof TransparencyError ? `${e.code}: ${e.message}` : String(e),
      };
    }
  }
  const json = JSON.stringify(bundle, null, 2);
  return (
    <section className="card proof" id="verify" data-testid="proof">
      <h2>{t.heading}</h2>
      <p className="muted small">{t.intro}</p>
      {outcome.ok ? (
        <p className="notice notice-ok" data-testid="proof-verified">
          ✓ {t.verified}
        </p>
      ) : (
        <p className="notice notice-error" data-testid="proof-failed">
          ✗ {t.failed(outcome.reason)}
        </p>
      )}
      <dl className="facts">
        <dt>{t.leafIndex}</dt>
        <dd className="mono" data-testid="proof-leaf-index">
          {bundle.leafIndex}
        </dd>
        <dt>{t.leafHash}</dt>
        <dd className="mono small" style={WRAP}>
          {bundle.leafHash}
        </dd>
        <dt>{t.treeSize}</dt>
        <dd className="mono">{bundle.inclusionProof.treeSize}</dd>
        {outcome.ok ? (
          <>
            <dt>{t.rootHash}</dt>
            <dd className="mono small" style={WRAP}>
              {outcome.rootHash}
            </dd>
            <dt>{t.checkpoint}</dt>
            <dd>{formatDateTime(outcome.timestamp, lang)}</dd>
            <dt>{t.key}</dt>
            <dd className="mono small" style={WRAP}>
              {outcome.kid}
            </dd>
          </>
        ) : null}
      </dl>
      <details>
        <summary>{t.path(bundle.inclusionProof.hashes.length)}</summary>
        <ol className="mono small" style={WRAP}>
          {bundle.inclusionProof.hashes.map((h, i) => (
            <li key={`${i}-${h}`}>{h}</li>
          ))}
        </ol>
      </details>
      <p>
        <a
          href={`data:application/json;charset=utf-8,${encodeURIComponent(json)}`}
          download="invoice-proof.json"
          data-testid="proof-download"
        >
          {t.download}
        </a>
      </p>
      <p className="muted small">{t.offline}</p>
      <pre
        className="mono small"
        style={{ ...WRAP, whiteSpace: 'pre-wrap' }}
      >{`npx suanli verify record invoice-proof.json --jwks ${apiBaseUrl()}/.well-known/jwks.json`}</pre>
    </section>
  );
}
