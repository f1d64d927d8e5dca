// suanli — the exchange's command-line tool. Later capabilities add commands here.
import { checkCharacter, CriError, explainCri, handleOf, parseCri } from '@suanli/cri';
import { runAgent } from './commands/agent.js';
import { runAssessor } from './commands/assessor.js';
import { runLease } from './commands/lease.js';
import { runVerify } from './commands/verify.js';

const HELP = `suanli — Suanli Exchange (算力交易所) command-line tool

Usage:
  suanli <command> [options]

Commands:
  cri validate <CRI>...               Validate codes offline: one line per code, in order,
                                      "valid" or "invalid: <segment>: <reason>"; exit 0 only
                                      if all are valid
  cri check-char <CRI-without-check>  Print the check character of a code up to its serial
  cri explain <CRI> [--json]          Print the decoded fields of a code
  cri check <CRI>                     Validate one code and print it parsed, as JSON
  cri resolve <CRI|handle>            Resolve an identifier through the market API (--api URL)
  assessor <command>                  Assessor keys and signed evaluations (assessor help)
  agent [options]                     Run the metering agent (suanli agent --help)
  lease access <lease id>             A buyer's access to its lease: SSH login, endpoint and
                                      token (suanli lease help)
  verify record|consistency FILE      Check a settlement record's proof or two checkpoints
                                      offline (suanli verify help)
  verify log URL                      Check the settlement log's tiles (C2SP tlog-tiles)
                                      against its signed checkpoint
  verify resolution FILE              Check a resolution record (GET /v1/cri/{code}) offline
                                      against the signed directory and a pinned thumbprint
  help                                Show this help

Options:
  --api URL    Market API base URL (default: $MARKET_API_URL or http://127.0.0.1:3100)
  --json       (cri explain) print the fields as JSON
  -h, --help   Show this help

Exit codes: 0 success, 1 an invalid code or a failed resolution, 2 a usage error.

Examples:
  suanli cri validate CRI1:86.R03.E00042:I:CN-GZ.GA1:AI-CTR:C96.M1536.G8-H200:000137:U
  suanli cri check-char CRI1:86.R03.E00042:I:CN-GZ.GA1:AI-CTR:C96.M1536.G8-H200:000137
  suanli cri explain CRI1:86.N00.E00001:M:CN-BJ.HD1:HPC-JOB:C64.M256:00000A:0
  suanli cri resolve 86.R03.E00042/000137
`;

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

/** The CRI error as one line: `<segment>: <reason>`. */
function describe(err: CriError): string {
  return `${err.segment}: ${err.reason}`;
}

function usage(message: string): number {
  process.stderr.write(`${message}\n\n${HELP}`);
  return 2;
}

function validate(codes: string[]): number {
  if (codes.length === 0) return usage('cri validate: give at least one code');
  let ok = true;
  for (const code of codes) {
    try {
      parseCri(code);
      console.log('valid');
    } catch (err) {
      if (!(err instanceof CriError)) throw err;
      ok = false;
      console.log(`invalid: ${describe(err)}`);
    }
  }
  return ok ? 0 : 1;
}

function checkChar(body: string | undefined): number {
  if (!body) return usage('cri check-char: give a code up to and including its serial');
  const trimmed = body.endsWith(':') ? body.slice(0, -1) : body;
  try {
    const check = checkCharacter(trimmed);
    // The body must itself be well formed: parse it with the computed check character.
    parseCri(`${trimmed}:${check}`);
    console.log(check);
    return 0;
  } catch (err) {
    if (!(err instanceof CriError)) throw err;
    console.error(`invalid: ${describe(err)}`);
    return 1;
  }
}

function explain(code: string | undefined, json: boolean): number {
  if (!code) return usage('cri explain: give a code');
  try {
    const fields = explainCri(code);
    if (json) {
      console.log(JSON.stringify(fields, null, 2));
    } else {
      const width = Math.max(...fields.map((f) => f.field.length));
      const valueWidth = Math.max(...fields.map((f) => f.value.length));
      for (const f of fields) {
        console.log(`${f.field.padEnd(width)}  ${f.value.padEnd(valueWidth)}  ${f.meaning}`);
      }
    }
    return 0;
  } catch (err) {
    if (!(err instanceof CriError)) throw err;
    console.error(`invalid: ${describe(err)}`);
    return 1;
  }
}

async function main(argv: string[]): Promise<number> {
  const [cmd, sub, arg] = argv;
  if (cmd === 'agent') return runAgent(argv.slice(1));
  if (cmd === 'assessor') return runAssessor(argv.slice(1));
  if (cmd === 'verify') return runVerify(argv.slice(1));
  if (cmd === 'lease') return runLease(argv.slice(1));
  if (!cmd || cmd === 'help' || argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(HELP);
    return 0;
  }
  if (cmd === 'cri' && sub === 'validate') return validate(argv.slice(2));
  if (cmd === 'cri' && sub === 'check-char') return checkChar(arg);
  if (cmd === 'cri' && sub === 'explain') {
    return explain(
      argv.slice(2).find((a) => a !== '--json'),
      argv.includes('--json'),
    );
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
  return usage(`unknown command: ${argv.join(' ')}`);
}

process.exit(await main(process.argv.slice(2)));
