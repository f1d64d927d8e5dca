export { UnitsError, type UnitsErrorCode } from './errors.js';
export {
  acceleratorRow,
  CATALOG_VERSIONS,
  cpuRow,
  CURRENT_CATALOG,
  getCatalog,
  isAcceleratorModel,
  isCatalogVersion,
  isUnitCode,
  UNIT_CODES,
  type AcceleratorRow,
  type Catalog,
  type ComputeClass,
  type CpuRow,
  type UnitCode,
} from './catalog.js';
export {
  computeUnits,
  computeUnitsExact,
  maxUnitsPerSlotHour,
  UNIT_DECIMALS,
  UNITS_TOLERANCE,
  unitsMatch,
  type RawUsage,
  type SlotSpec,
  type UnitQuantities,
  type UnitsContext,
} from './compute.js';
export { addScaled, parseScaled, pow10, scaledGreaterThan, type Scaled } from './fixed-point.js';
export { minuteRowsSql, UNIT_COLUMNS } from './usage-columns.js';
