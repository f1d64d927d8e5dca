export { Decimal } from './decimal.js';
export { MoneyError, type MoneyErrorCode } from './errors.js';
export { assertCurrency, isCurrencyCode, minorUnitDigits, type CurrencyCode } from './currency.js';
export { parseDecimal, roundCeil, roundHalfEven, toDecimal, toFixedHalfEven } from './parse.js';
export { Money, fee, type MoneyJson } from './money.js';
export { fromMinorUnits, toMinorUnits } from './minor-units.js';
