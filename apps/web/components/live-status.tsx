import type { OfferView } from '@suanli/contracts';
import type { Dict } from '@/lib/i18n/en';

/** An offer's resource's live status (from its agent's heartbeats), as a badge. */
export function LiveBadge({ live, t }: { live: OfferView['resource']['live']; t: Dict }) {
  return (
    <span
      className={`badge badge-${live.status}`}
      data-testid="offer-live"
      data-status={live.status}
    >
      {t.cri.live[live.status] ?? live.status}
    </span>
  );
}
