// suanli — the exchange's command-line tool. Later capabilities add commands here.
import { CriError, handleOf, parseCri } from '@suanli/cri';

const HELP = `suanli — Suanli Exchange (算力交易所) command-line tool

Usage:
  suanli <command> [options]

Commands:
  cri check <CRI>             Validate a compute resource identifier offline and explain it
  cri resolve <CRI|handle>    Resolve an identifier through the market API (--api URL)
  help                        Show this help

Options:
  --api URL    Market API base URL (default: $MARKET_API_URL or http://127.0.0.1:3100)
  -h, --help   Show this help

Examples:
  suanli cri check CRI1:86.R03.E00042:I:CN-GZ.GA1:AI-CTR:C96.M1536.G8-H200:000137:U
  suanli cri resolve 86.R03.E00042/000137
`;

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

async function main(argv: string[]): Promise<number> {
  const [cmd, sub, arg] = argv;
  if (!cmd || cmd === 'help' || argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(HELP);
    return 0;
  }
  if (cmd === 'cri' && sub === 'check' && arg) {
    try {
      const cri = parseCri(arg);
      console.log(JSON.stringify({ valid: true, handle: handleOf(cri), ...cri }, null, 2));
      return 0;
    } catch (err) {
      if (err instanceof CriError) {
        console.error(`invalid CRI (${err.segment}): ${err.message}`);
        return 1;
      }
      throw err;
    }
  }
  if (cmd === 'cri' && sub === 'resolve' && arg) {
    const api = option(argv, '--api') ?? process.env.MARKET_API_URL ?? 'http://127.0.0.1:3100';
    const res = await fetch(`${api}/v1/cri/${encodeURIComponent(arg)}`);
    console.log(JSON.stringify(await res.json(), null, 2));
    return res.ok ? 0 : 1;
  }
  process.stderr.write(`unknown command: ${argv.join(' ')}\n\n${HELP}`);
  return 2;
}

process.exit(await main(process.argv.slice(2)));
