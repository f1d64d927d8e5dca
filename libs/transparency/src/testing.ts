import { TransparencyError } from './errors.js';

/** The `TransparencyError` code `fn` throws, if any (tests). */
export function errorCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof TransparencyError ? e.code : `not a TransparencyError: ${String(e)}`;
  }
  return undefined;
}
