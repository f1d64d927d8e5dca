import type { Metadata } from 'next';
import Link from 'next/link';
import QRCode from 'qrcode';
import { ErrorBox } from '@/components/error-box';
import { classForm } from '@/components/offer-bits';
import { loadForBuyer } from '@/lib/buyer';
import { formatDateTime } from '@/lib/format';
import { getI18n } from '@/lib/i18n/server';
import { criHref } from '@/lib/params';

export async function generateMetadata(): Promise<Metadata> {
  const { t } = await getI18n();
  return { title: t.sellerResources.heading };
}

/** The CRI as an SVG QR code, rendered on the server (no client JavaScript). */
function qrSvg(cri: string): Promise<string> {
  return QRCode.toString(cri, { type: 'svg', margin: 1, errorCorrectionLevel: 'M' });
}

export default async function SellerResourcesPage() {
  const result = await loadForBuyer((api) => api.GET('/v1/resources'), '/seller/resources');
  const { lang, t } = await getI18n();
  const s = t.sellerResources;
  const qrs = result.ok ? await Promise.all(result.data.items.map((r) => qrSvg(r.cri))) : [];
  return (
    <>
      <section className="page-head">
        <h1>{s.heading}</h1>
        <p className="lead">{s.intro}</p>
        <p>
          <Link href="/seller/resources/new" className="button">
            {t.j.resourceForm.add}
          </Link>
        </p>
      </section>
      {!result.ok ? (
        <ErrorBox error={result.error} labels={t.errors} />
      ) : result.data.items.length === 0 ? (
        <p className="empty">{s.empty}</p>
      ) : (
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">{s.name}</th>
                <th scope="col">{s.cri}</th>
                <th scope="col">{s.qr}</th>
                <th scope="col">{s.state}</th>
                <th scope="col">{s.status}</th>
                <th scope="col">{s.lastHeartbeat}</th>
                <th scope="col">
                  <span className="sr-only">{t.j.resourceForm.enrol}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {result.data.items.map((r, i) => (
                <tr key={r.id} data-testid="seller-resource" data-handle={r.handle}>
                  <td>
                    <strong>{r.name}</strong>
                    <div className="small">{classForm(r, t)}</div>
                  </td>
                  <td>
                    <Link href={criHref(r.cri)} className="mono" data-testid="seller-resource-cri">
                      {r.cri}
                    </Link>
                    <div className="small">
                      {s.revision} {r.revision} · <span className="mono">{r.handle}</span>
                    </div>
                  </td>
                  <td>
                    <figure
                      className="qr"
                      role="img"
                      aria-label={s.qrLabel(r.cri)}
                      data-testid="cri-qr"
                      dangerouslySetInnerHTML={{ __html: qrs[i] ?? '' }}
                    />
                  </td>
                  <td>
                    <span className={`badge badge-${r.state}`} data-testid="seller-resource-state">
                      {t.cri.states[r.state] ?? r.state}
                    </span>
                  </td>
                  <td>
                    <span
                      className={`badge badge-${r.liveStatus}`}
                      data-testid="seller-resource-status"
                    >
                      {t.cri.live[r.liveStatus] ?? r.liveStatus}
                    </span>
                  </td>
                  <td>{formatDateTime(r.lastHeartbeatAt, lang)}</td>
                  <td>
                    <Link
                      href={`/seller/resources/${r.id}/agent`}
                      className="button button-small button-ghost"
                    >
                      {t.j.resourceForm.enrol}
                    </Link>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
