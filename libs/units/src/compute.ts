import { Decimal, MoneyError, parseDecimal, roundCeil, toFixedHalfEven } from '@suanli/money';
import {
  acceleratorRow,
  cpuRow,
  getCatalog,
  isCatalogVersion,
  isUnitCode,
  UNIT_CODES,
  type AcceleratorRow,
  type Catalog,
  type ComputeClass,
  type UnitCode,
} from './catalog.js';
import { UnitsError } from './errors.js';
import {
  addScaled,
  divToFixedHalfEven,
  mulScaled,
  parseScaled,
  type Scaled,
} from './fixed-point.js';

/** Units are computed to 9 decimal places, half-even (docs/units.md). */
export const UNIT_DECIMALS = 9;

/** Raw usage of one window as reported by an agent. Every quantity is a decimal string. */
export type RawUsage = {
  duration_s: string;
  cpu_core_s?: string;
  mem_gib_s?: string;
  /** Accelerator model code → accelerator-seconds. */
  acc_s?: Record<string, string>;
  sto_gib_s?: string;
  egress_bytes?: string;
  api_calls?: string;
};

/** How to rate usage: the pinned catalog version, the resource's class and CPU model. */
export type UnitsContext = {
  catalog: string;
  class: ComputeClass;
  cpuModel?: string;
};

/** Unit code → quantity as a 9-dp decimal string. */
export type UnitQuantities = Partial<Record<UnitCode, string>>;

const SECONDS_PER_HOUR = new Decimal(3600);
/** 1000 (TFLOPS → PFLOPS, or GFLOPS → TFLOPS) × 3600 s. */
const KILO_HOUR = new Decimal(3_600_000);
const GIB = new Decimal(2).pow(30);
const CLASSES: readonly string[] = ['GEN', 'AI', 'HPC'];

function quantity(field: string, value: unknown): Decimal | undefined {
  if (value === undefined) return undefined;
  let d: Decimal;
  try {
    d = parseDecimal(value as string);
  } catch (e) {
    if (e instanceof MoneyError) {
      throw new UnitsError('invalid_usage', `usage.${field}: ${e.message}`);
    }
    throw e;
  }
  if (d.isNegative()) {
    throw new UnitsError('invalid_usage', `usage.${field} is negative: ${String(value)}`);
  }
  return d;
}

function checkContext(ctx: UnitsContext): Catalog {
  if (typeof ctx !== 'object' || ctx === null || !CLASSES.includes(ctx.class)) {
    throw new UnitsError(
      'invalid_context',
      `class must be one of GEN, AI, HPC, got ${JSON.stringify(ctx?.class)}`,
    );
  }
  return getCatalog(ctx.catalog);
}

/**
 * Exact (unrounded) units of `usage`; zero-valued units are omitted. Shared by
 * {@link computeUnits} (rounded half-even) and {@link maxUnitsPerSlotHour} (rounded up).
 */
export function computeUnitsExact(
  usage: RawUsage,
  ctx: UnitsContext,
): Partial<Record<UnitCode, Decimal>> {
  const catalog = checkContext(ctx);
  if (typeof usage !== 'object' || usage === null) {
    throw new UnitsError('invalid_usage', 'usage must be an object');
  }
  if (quantity('duration_s', usage.duration_s) === undefined) {
    throw new UnitsError('invalid_usage', 'usage.duration_s is required');
  }

  // Σ accelerator-seconds × rated TFLOPS, per precision.
  let accFp16 = new Decimal(0);
  let accFp64 = new Decimal(0);
  if (usage.acc_s !== undefined) {
    if (typeof usage.acc_s !== 'object' || usage.acc_s === null || Array.isArray(usage.acc_s)) {
      throw new UnitsError('invalid_usage', 'usage.acc_s must be an object of model → seconds');
    }
    for (const [model, secondsText] of Object.entries(usage.acc_s)) {
      const row = acceleratorRow(catalog, model);
      const seconds = quantity(`acc_s.${model}`, secondsText) ?? new Decimal(0);
      accFp16 = accFp16.plus(seconds.times(row.fp16Tflops));
      accFp64 = accFp64.plus(seconds.times(row.fp64Tflops));
    }
  }

  const out: Partial<Record<UnitCode, Decimal>> = {};
  const coreSeconds = quantity('cpu_core_s', usage.cpu_core_s) ?? new Decimal(0);
  const cpu = cpuRow(catalog, ctx.cpuModel);

  if (ctx.class === 'HPC') {
    // scu.hpc = acc_s × FP64 TFLOPS / 3600 + core_s × FP64 GFLOPS/core / 1000 / 3600,
    // summed before the one division so that the result is rounded once.
    out['scu.hpc'] = accFp64
      .times(1000)
      .plus(coreSeconds.times(cpu.fp64GflopsPerCore))
      .div(KILO_HOUR);
  } else {
    out['scu.ai'] = accFp16.div(KILO_HOUR);
    out['scu.gen'] = coreSeconds.times(cpu.cpuFactor).div(SECONDS_PER_HOUR);
  }

  const mem = quantity('mem_gib_s', usage.mem_gib_s);
  if (mem !== undefined) out['mem.gib_h'] = mem.div(SECONDS_PER_HOUR);
  const sto = quantity('sto_gib_s', usage.sto_gib_s);
  if (sto !== undefined) out['sto.gib_h'] = sto.div(SECONDS_PER_HOUR);
  const egress = quantity('egress_bytes', usage.egress_bytes);
  if (egress !== undefined) out['net.egress_gib'] = egress.div(GIB);
  const calls = quantity('api_calls', usage.api_calls);
  if (calls !== undefined) out['api.call'] = calls;

  const result: Partial<Record<UnitCode, Decimal>> = {};
  for (const code of UNIT_CODES) {
    const v = out[code];
    if (v !== undefined && !v.isZero()) result[code] = v;
  }
  return result;
}

/**
 * Converts raw usage to standard units with the pinned catalog (docs/units.md), each as a 9-dp
 * half-even decimal string, in catalog order. A unit whose source is absent or zero (or whose
 * rated factor is zero, e.g. the FP64 of a 910B) is omitted.
 *
 * Accelerator-seconds give `scu.ai` (classes AI, GEN) or `scu.hpc` (HPC); core-seconds give
 * `scu.gen` (AI, GEN) or add to `scu.hpc` (HPC). Throws `UnitsError` with code
 * `unknown_catalog`, `unknown_model`, `invalid_usage` or `invalid_context`.
 */
export function computeUnits(usage: RawUsage, ctx: UnitsContext): UnitQuantities {
  const fast = computeUnitsFixedPoint(usage, ctx);
  if (fast !== undefined) return fast;
  const exact = computeUnitsExact(usage, ctx);
  const out: UnitQuantities = {};
  for (const code of UNIT_CODES) {
    const v = exact[code];
    if (v !== undefined) out[code] = toFixedHalfEven(v, UNIT_DECIMALS);
  }
  return out;
}

/** The rounding tolerance of {@link unitsMatch}: one unit in the 9th decimal place. */
export const UNITS_TOLERANCE = '0.000000001';

/**
 * True when `a` and `b` carry the same unit codes and each pair differs by at most 1e-9.
 * Malformed quantities never match.
 */
export function unitsMatch(
  a: Partial<Record<string, string>>,
  b: Partial<Record<string, string>>,
): boolean {
  const keysOf = (o: Partial<Record<string, string>>): string[] =>
    Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort();
  const ka = keysOf(a);
  const kb = keysOf(b);
  if (ka.length !== kb.length || ka.some((k, i) => k !== kb[i])) return false;
  const tolerance = new Decimal(UNITS_TOLERANCE);
  try {
    return ka.every((k) =>
      parseDecimal(a[k] as string)
        .minus(parseDecimal(b[k] as string))
        .abs()
        .lte(tolerance),
    );
  } catch (e) {
    if (e instanceof MoneyError) return false;
    throw e;
  }
}

/** What one slot of a resource offers (the CRI spec). */
export type SlotSpec = {
  cpu?: number;
  memGiB?: number;
  accel?: { count: number; model: string };
  storageGiB?: number;
  netGbps?: number;
};

function specInt(field: string, value: number | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new UnitsError('invalid_usage', `spec.${field} must be a non-negative integer`);
  }
  return String(value * 3600);
}

/**
 * The most of `unit` that one slot with `spec` can produce in one hour, as a 9-dp decimal string
 * rounded up (an upper bound, for escrow holds and plausibility checks). `'0.000000000'` when the
 * spec has no source for the unit (or the class never produces it). `null` when no physical
 * bound exists: `api.call`, and `net.egress_gib` without `netGbps`.
 */
export function maxUnitsPerSlotHour(
  spec: SlotSpec,
  unit: UnitCode,
  ctx: UnitsContext,
): string | null {
  if (!isUnitCode(unit)) {
    throw new UnitsError('unknown_unit', `unknown unit ${JSON.stringify(unit)}`);
  }
  if (unit === 'api.call') return null;
  if (unit === 'net.egress_gib' && spec.netGbps === undefined) return null;

  const usage: RawUsage = { duration_s: '3600' };
  const cpu = specInt('cpu', spec.cpu);
  if (cpu !== undefined) usage.cpu_core_s = cpu;
  const mem = specInt('memGiB', spec.memGiB);
  if (mem !== undefined) usage.mem_gib_s = mem;
  const sto = specInt('storageGiB', spec.storageGiB);
  if (sto !== undefined) usage.sto_gib_s = sto;
  if (spec.accel !== undefined) {
    const count = specInt('accel.count', spec.accel.count);
    if (count !== undefined) usage.acc_s = { [spec.accel.model]: count };
  }
  const net = specInt('netGbps', spec.netGbps);
  if (net !== undefined) {
    // Gbit/s × 3600 s → bits → bytes.
    usage.egress_bytes = new Decimal(net).times('1e9').div(8).toFixed();
  }
  const exact = computeUnitsExact(usage, ctx)[unit] ?? new Decimal(0);
  return roundCeil(exact, UNIT_DECIMALS).toFixed(UNIT_DECIMALS);
}

const ZERO: Scaled = { n: 0n, scale: 0 };
const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

/**
 * {@link computeUnits} on BigInt fixed point for well-formed input: the same formulas, the same
 * digits (exact quotient rounded half-even once). Undefined for anything unusual (a malformed
 * or negative quantity, an unknown model, class or catalog): the Decimal path then gives the
 * result or the precise error.
 */
function computeUnitsFixedPoint(usage: RawUsage, ctx: UnitsContext): UnitQuantities | undefined {
  if (typeof ctx !== 'object' || ctx === null || !CLASSES.includes(ctx.class)) return undefined;
  if (!isCatalogVersion(ctx.catalog)) return undefined;
  if (typeof usage !== 'object' || usage === null) return undefined;
  if (parseScaled(usage.duration_s) === undefined) return undefined;
  const catalog = getCatalog(ctx.catalog);
  let accFp16 = ZERO;
  let accFp64 = ZERO;
  const acc: unknown = usage.acc_s;
  if (acc !== undefined) {
    if (typeof acc !== 'object' || acc === null || Array.isArray(acc)) return undefined;
    for (const model in acc) {
      if (!hasOwn(acc, model)) continue;
      if (!hasOwn(catalog.accelerators, model)) return undefined;
      const row = catalog.accelerators[model] as AcceleratorRow;
      const seconds = parseScaled((acc as Record<string, unknown>)[model]);
      const f16 = parseScaled(row.fp16Tflops);
      const f64 = parseScaled(row.fp64Tflops);
      if (seconds === undefined || f16 === undefined || f64 === undefined) return undefined;
      accFp16 = addScaled(accFp16, mulScaled(seconds, f16));
      accFp64 = addScaled(accFp64, mulScaled(seconds, f64));
    }
  }
  const optional = (value: unknown): Scaled | null | undefined =>
    value === undefined ? null : parseScaled(value);
  const core = optional(usage.cpu_core_s);
  const mem = optional(usage.mem_gib_s);
  const sto = optional(usage.sto_gib_s);
  const egress = optional(usage.egress_bytes);
  const calls = optional(usage.api_calls);
  if (core === undefined || mem === undefined || sto === undefined) return undefined;
  if (egress === undefined || calls === undefined) return undefined;
  const cpu = cpuRow(catalog, ctx.cpuModel);
  const cpuFactor = parseScaled(cpu.cpuFactor);
  const fp64PerCore = parseScaled(cpu.fp64GflopsPerCore);
  if (cpuFactor === undefined || fp64PerCore === undefined) return undefined;
  const coreSeconds = core ?? ZERO;

  const out: UnitQuantities = {};
  const put = (code: UnitCode, value: Scaled | null, divisor: bigint) => {
    if (value !== null && value.n !== 0n) {
      out[code] = divToFixedHalfEven(value, divisor, UNIT_DECIMALS);
    }
  };
  // Keys in catalog order (UNIT_CODES), as the Decimal path returns them.
  if (ctx.class === 'HPC') {
    put(
      'scu.hpc',
      addScaled(mulScaled(accFp64, { n: 1000n, scale: 0 }), mulScaled(coreSeconds, fp64PerCore)),
      3_600_000n,
    );
  } else {
    put('scu.ai', accFp16, 3_600_000n);
    put('scu.gen', mulScaled(coreSeconds, cpuFactor), 3600n);
  }
  put('mem.gib_h', mem, 3600n);
  put('sto.gib_h', sto, 3600n);
  put('net.egress_gib', egress, 1n << 30n);
  put('api.call', calls, 1n);
  return out;
}
