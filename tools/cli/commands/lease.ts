// `suanli lease access <id>`: how the buyer reaches what its lease delivers (docs/delivery.md,
// "The market side"). The access may carry a secret (a bearer token): it is printed to the
// buyer's terminal only, on request.
import type { DeliveryAccess, LeaseAccessView } from '@suanli/contracts';

export const LEASE_HELP = `suanli lease — a buyer's leases

Usage:
  suanli lease access <lease id> [--json] [--api URL]
      Prints how to reach what the lease delivers (SSH login, endpoint and token, container).
      The token is a secret: keep the output to yourself.

Authenticates with the buyer's access token in $SUANLI_TOKEN.
--api defaults to $MARKET_API_URL or http://127.0.0.1:3100.
Exit codes: 0 printed, 1 no access (not granted yet, ended, or not your lease), 2 usage error.
`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

/** The access as lines a person can act on. */
export function describeAccess(a: DeliveryAccess): string[] {
  switch (a.kind) {
    case 'ssh':
      return [
        `ssh -p ${a.port} ${a.user}@${a.host}`,
        ...a.hostKeyFingerprints.map((f) => `host key: ${f}`),
      ];
    case 'http':
      return [
        `endpoint: ${a.endpoint}`,
        `token: ${a.token}`,
        `concurrency: ${a.concurrency}`,
        `curl -H 'Authorization: Bearer ${a.token}' ${a.endpoint}`,
      ];
    case 'container':
      return [
        `container: ${a.name} (${a.image})`,
        a.port !== undefined ? `reach it at ${a.host}:${a.port}` : `host: ${a.host}`,
      ];
  }
}

export async function runLease(args: string[]): Promise<number> {
  const [sub, id] = args;
  if (sub === undefined || sub === 'help' || args.includes('--help') || args.includes('-h')) {
    process.stdout.write(LEASE_HELP);
    return sub === undefined ? 2 : 0;
  }
  if (sub !== 'access' || id === undefined || !UUID.test(id)) {
    process.stderr.write(`lease: give "access <lease id>" (a UUID)\n\n${LEASE_HELP}`);
    return 2;
  }
  const token = process.env.SUANLI_TOKEN;
  if (!token) {
    process.stderr.write('SUANLI_TOKEN is not set: log in as the buyer and export the token\n');
    return 2;
  }
  const api = option(args, '--api') ?? process.env.MARKET_API_URL ?? 'http://127.0.0.1:3100';
  const res = await fetch(new URL(`/v1/leases/${id.toLowerCase()}/access`, api), {
    headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
    signal: AbortSignal.timeout(30_000),
  });
  if (!res.ok) {
    const body = (await res.json().catch(() => null)) as { error?: { message?: string } } | null;
    process.stderr.write(
      `lease access: HTTP ${res.status}${body?.error?.message ? `: ${body.error.message}` : ''}\n`,
    );
    return 1;
  }
  const view = (await res.json()) as LeaseAccessView;
  if (args.includes('--json')) {
    console.log(JSON.stringify(view, null, 2));
    return view.access === null ? 1 : 0;
  }
  if (view.access === null) {
    process.stderr.write('lease access: no access (not granted yet, or the lease has ended)\n');
    return 1;
  }
  for (const line of describeAccess(view.access)) console.log(line);
  if (view.grantedAt !== null) console.log(`granted at: ${view.grantedAt}`);
  return 0;
}
