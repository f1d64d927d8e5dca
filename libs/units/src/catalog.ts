import { UnitsError } from './errors.js';

/** The standard units (docs/units.md), in catalog order. */
export const UNIT_CODES = [
  'scu.ai',
  'scu.hpc',
  'scu.gen',
  'mem.gib_h',
  'sto.gib_h',
  'net.egress_gib',
  'api.call',
] as const;

export type UnitCode = (typeof UNIT_CODES)[number];

export function isUnitCode(value: unknown): value is UnitCode {
  return typeof value === 'string' && (UNIT_CODES as readonly string[]).includes(value);
}

/** Compute class of a resource (the CRI's class segment). */
export type ComputeClass = 'GEN' | 'AI' | 'HPC';

/** Rated (datasheet, dense, no sparsity) throughput of one accelerator, as decimal strings. */
export interface AcceleratorRow {
  fp16Tflops: string;
  fp64Tflops: string;
}

/** A CPU model known to the catalog. */
export interface CpuRow {
  /** Reference vCPU-hours per core-hour (`scu.gen`). */
  cpuFactor: string;
  /** Rated FP64 GFLOPS per core (`scu.hpc`). */
  fp64GflopsPerCore: string;
}

/** One immutable version of the unit catalog. */
export interface Catalog {
  readonly version: string;
  /** Accelerator model code (CRI spec, uppercase) → rated throughput. */
  readonly accelerators: Readonly<Record<string, Readonly<AcceleratorRow>>>;
  /** CPU model code → factors; unknown models use the defaults below. */
  readonly cpus: Readonly<Record<string, Readonly<CpuRow>>>;
  /** `scu.gen` factor of an unknown CPU model: 1.0 (docs/units.md). */
  readonly cpuFactor: string;
  /** FP64 GFLOPS per core of an unknown CPU model. */
  readonly fp64GflopsPerCore: string;
}

function freezeCatalog(c: Catalog): Catalog {
  for (const row of Object.values(c.accelerators)) Object.freeze(row);
  for (const row of Object.values(c.cpus)) Object.freeze(row);
  Object.freeze(c.accelerators);
  Object.freeze(c.cpus);
  return Object.freeze(c);
}

const CATALOG_2026_1: Catalog = freezeCatalog({
  version: '2026.1',
  // docs/units.md, "The catalog" (vendor datasheets; dense, no sparsity).
  accelerators: {
    H200: { fp16Tflops: '989', fp64Tflops: '34' },
    H100: { fp16Tflops: '989', fp64Tflops: '34' },
    H20: { fp16Tflops: '148', fp64Tflops: '1' },
    A100: { fp16Tflops: '312', fp64Tflops: '9.7' },
    A800: { fp16Tflops: '312', fp64Tflops: '9.7' },
    L40S: { fp16Tflops: '362', fp64Tflops: '1.4' },
    RTX4090: { fp16Tflops: '165', fp64Tflops: '1.3' },
    MI300X: { fp16Tflops: '1307', fp64Tflops: '81.7' },
    '910B': { fp16Tflops: '320', fp64Tflops: '0' },
    V100: { fp16Tflops: '125', fp64Tflops: '7.8' },
  },
  // No CPU model rows in 2026.1: every CPU rates with the defaults.
  cpus: {},
  // The CPU model's factor, 1.0 when unknown (docs/units.md).
  cpuFactor: '1.0',
  // Default FP64 GFLOPS per core, chosen for 2026.1 (no published figure): 40 GFLOPS is
  // one modern server core at ~2.5 GHz retiring 16 FP64 FLOP/cycle (2 × 256-bit FMA, AVX2);
  // AVX-512 parts peak higher, so this understates rather than overstates HPC CPU output.
  fp64GflopsPerCore: '40',
});

const CATALOGS: Readonly<Record<string, Catalog>> = Object.freeze({
  [CATALOG_2026_1.version]: CATALOG_2026_1,
});

/** Every published catalog version, oldest first. Versions are never changed once published. */
export const CATALOG_VERSIONS: readonly string[] = Object.freeze(Object.keys(CATALOGS));

/** The version new orders pin. */
export const CURRENT_CATALOG = '2026.1';

export function isCatalogVersion(version: unknown): version is string {
  return typeof version === 'string' && Object.prototype.hasOwnProperty.call(CATALOGS, version);
}

/** The catalog `version`; throws `UnitsError('unknown_catalog')`. */
export function getCatalog(version: string): Catalog {
  if (!isCatalogVersion(version)) {
    throw new UnitsError(
      'unknown_catalog',
      `unknown unit catalog version ${JSON.stringify(version)}`,
    );
  }
  return CATALOGS[version] as Catalog;
}

/** True when `code` is an accelerator model of catalog `version` (default: the current one). */
export function isAcceleratorModel(code: string, version: string = CURRENT_CATALOG): boolean {
  return Object.prototype.hasOwnProperty.call(getCatalog(version).accelerators, code);
}

/** The accelerator row for `model`; throws `UnitsError('unknown_model')`. */
export function acceleratorRow(catalog: Catalog, model: string): AcceleratorRow {
  if (!Object.prototype.hasOwnProperty.call(catalog.accelerators, model)) {
    throw new UnitsError(
      'unknown_model',
      `accelerator model ${JSON.stringify(model)} is not in unit catalog ${catalog.version}`,
    );
  }
  return catalog.accelerators[model] as AcceleratorRow;
}

/** The `scu.gen` factor and FP64 GFLOPS/core of `cpuModel`, defaults when unknown or absent. */
export function cpuRow(catalog: Catalog, cpuModel?: string): CpuRow {
  if (cpuModel !== undefined && Object.prototype.hasOwnProperty.call(catalog.cpus, cpuModel)) {
    return catalog.cpus[cpuModel] as CpuRow;
  }
  return { cpuFactor: catalog.cpuFactor, fp64GflopsPerCore: catalog.fp64GflopsPerCore };
}
