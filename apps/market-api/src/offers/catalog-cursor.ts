import { DomainError } from '../common/errors.js';

/** Position after the last row of a catalog page: the sort key and the id (a stable tiebreak). */
export interface CatalogCursor {
  sort: 'newest' | 'price' | 'credibility';
  key: string;
  id: string;
}

export function encodeCursor(c: CatalogCursor): string {
  return Buffer.from(JSON.stringify([c.sort, c.key, c.id])).toString('base64url');
}

export function decodeCursor(s: string, sort: CatalogCursor['sort']): CatalogCursor {
  try {
    const v = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as unknown;
    if (
      Array.isArray(v) &&
      v.length === 3 &&
      v[0] === sort &&
      typeof v[1] === 'string' &&
      typeof v[2] === 'string' &&
      /^[0-9a-f-]{36}$/.test(v[2])
    ) {
      return { sort, key: v[1], id: v[2] };
    }
  } catch {
    // fall through to the error below
  }
  throw new DomainError('validation_failed', 'the cursor is not valid for this query', 400, {
    field: 'cursor',
  });
}
