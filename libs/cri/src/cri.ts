import { checkCharacter } from './check.js';
import { CriError, type CriSegment } from './errors.js';

export const CRI_SCHEME = 'CRI1';
export const CRI_MAX_LENGTH = 128;

export const CRI_CLASSES = ['GEN', 'AI', 'HPC'] as const;
export type CriClass = (typeof CRI_CLASSES)[number];

export const CRI_FORMS = ['BM', 'VM', 'CTR', 'API', 'JOB'] as const;
export type CriForm = (typeof CRI_FORMS)[number];

/** The owner, coded by the platform that admitted it: `86.R03.E00042`. */
export type Registrant = {
  /** 2-4 digits; `86` is the national root. */
  root: string;
  /** `N`, `R` or `I` + 2 base36 characters (`N00`: the national platform itself). */
  platform: string;
  /** `E` + 5 base36 characters. */
  entity: string;
};

/** `<country>-<subdivision>.<site>`: `CN-GZ.GA1`. */
export type CriLocation = {
  /** ISO 3166-1 alpha-2. */
  country: string;
  /** ISO 3166-2 subdivision suffix, 1-3 alphanumerics. */
  subdivision: string;
  /** Owner-chosen site code, 1-8 alphanumerics. */
  site: string;
};

/** Normalized specification: positive integers; at least one field present. */
export type CriSpec = {
  cpu?: number;
  memGiB?: number;
  accel?: { count: number; model: string };
  storageGiB?: number;
  netGbps?: number;
};

/** A parsed Compute Resource Identifier (docs/identifier.md, version 1). */
export type Cri = {
  registrant: Registrant;
  /** GB/T 4754-2017 section letter `A`..`T`. */
  industry: string;
  location: CriLocation;
  class: CriClass;
  form: CriForm;
  spec: CriSpec;
  /** 6 base36 characters. */
  serial: string;
  /** ISO/IEC 7064 MOD 37,36 check character. */
  check: string;
};

/** A resource's stable handle `<registrant>/<serial>`, parsed. */
export type CriHandle = { registrant: Registrant; serial: string };

const ROOT_RE = /^\d{2,4}$/;
const PLATFORM_RE = /^[NRI][0-9A-Z]{2}$/;
const ENTITY_RE = /^E[0-9A-Z]{5}$/;
const INDUSTRY_RE = /^[A-T]$/;
const COUNTRY_RE = /^[A-Z]{2}$/;
const SUBDIVISION_RE = /^[0-9A-Z]{1,3}$/;
const SITE_RE = /^[0-9A-Z]{1,8}$/;
const SERIAL_RE = /^[0-9A-Z]{6}$/;
const CHECK_RE = /^[0-9A-Z]$/;
const MODEL_RE = /^[0-9A-Z]{1,16}$/;
const INT_RE = /^[1-9]\d{0,15}$/;
const SERIAL_LIMIT = 36 ** 6;

function show(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

function fail(segment: CriSegment, message: string, expected?: string): never {
  throw new CriError(segment, message, expected);
}

// ---------------------------------------------------------------- registrant

export function formatRegistrant(r: Registrant): string {
  if (typeof r !== 'object' || r === null)
    fail('registrant', 'expected { root, platform, entity }');
  if (typeof r.root !== 'string' || !ROOT_RE.test(r.root)) {
    fail('registrant', `root ${show(r.root)} must be 2-4 digits`);
  }
  if (typeof r.platform !== 'string' || !PLATFORM_RE.test(r.platform)) {
    fail('registrant', `platform ${show(r.platform)} must be N, R or I + 2 base36 characters`);
  }
  if (typeof r.entity !== 'string' || !ENTITY_RE.test(r.entity)) {
    fail('registrant', `entity ${show(r.entity)} must be E + 5 base36 characters`);
  }
  return `${r.root}.${r.platform}.${r.entity}`;
}

export function parseRegistrant(s: string): Registrant {
  if (typeof s !== 'string') fail('registrant', 'expected a string');
  const parts = s.split('.');
  if (parts.length !== 3) {
    fail('registrant', `${show(s)} must be <root>.<platform>.<entity>`);
  }
  const [root, platform, entity] = parts as [string, string, string];
  const r: Registrant = { root, platform, entity };
  formatRegistrant(r);
  return r;
}

// ---------------------------------------------------------------- location

function formatLocation(l: CriLocation): string {
  if (typeof l !== 'object' || l === null) {
    fail('location', 'expected { country, subdivision, site }');
  }
  if (typeof l.country !== 'string' || !COUNTRY_RE.test(l.country)) {
    fail(
      'location',
      `country ${show(l.country)} must be ISO 3166-1 alpha-2 (2 upper-case letters)`,
    );
  }
  if (typeof l.subdivision !== 'string' || !SUBDIVISION_RE.test(l.subdivision)) {
    fail('location', `subdivision ${show(l.subdivision)} must be 1-3 upper-case alphanumerics`);
  }
  if (typeof l.site !== 'string' || !SITE_RE.test(l.site)) {
    fail('location', `site ${show(l.site)} must be 1-8 upper-case alphanumerics`);
  }
  return `${l.country}-${l.subdivision}.${l.site}`;
}

function parseLocation(s: string): CriLocation {
  const m = /^([^-.]*)-([^-.]*)\.([^-.]*)$/.exec(s);
  if (m === null) fail('location', `${show(s)} must be <country>-<subdivision>.<site>`);
  const l: CriLocation = {
    country: m[1] as string,
    subdivision: m[2] as string,
    site: m[3] as string,
  };
  formatLocation(l);
  return l;
}

// ---------------------------------------------------------------- spec

const SPEC_ORDER = ['C', 'M', 'G', 'S', 'N'] as const;

function formatInt(name: string, value: unknown): string {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    fail('spec', `${name} must be a positive integer, got ${show(value)}`);
  }
  return String(value);
}

function parseInt10(name: string, text: string): number {
  if (!INT_RE.test(text) || !Number.isSafeInteger(Number(text))) {
    fail('spec', `${name} ${show(text)} must be a positive integer without leading zeros`);
  }
  return Number(text);
}

/** `C96.M1536.G8-H200`: tokens in the order C, M, G, S, N; at least one. */
export function formatSpec(spec: CriSpec): string {
  if (typeof spec !== 'object' || spec === null) fail('spec', 'expected an object');
  const tokens: string[] = [];
  if (spec.cpu !== undefined) tokens.push(`C${formatInt('cpu', spec.cpu)}`);
  if (spec.memGiB !== undefined) tokens.push(`M${formatInt('memGiB', spec.memGiB)}`);
  if (spec.accel !== undefined) {
    const a = spec.accel;
    if (typeof a !== 'object' || a === null) fail('spec', 'accel must be { count, model }');
    const count = formatInt('accel.count', a.count);
    if (typeof a.model !== 'string' || !MODEL_RE.test(a.model)) {
      fail('spec', `accelerator model code ${show(a.model)} must be 1-16 upper-case alphanumerics`);
    }
    tokens.push(`G${count}-${a.model}`);
  }
  if (spec.storageGiB !== undefined) tokens.push(`S${formatInt('storageGiB', spec.storageGiB)}`);
  if (spec.netGbps !== undefined) tokens.push(`N${formatInt('netGbps', spec.netGbps)}`);
  if (tokens.length === 0) fail('spec', 'at least one of C, M, G, S, N is required');
  return tokens.join('.');
}

export function parseSpec(s: string): CriSpec {
  if (typeof s !== 'string' || s === '') fail('spec', 'at least one of C, M, G, S, N is required');
  const spec: CriSpec = {};
  let last = -1;
  for (const token of s.split('.')) {
    const letter = token.charAt(0);
    const rank = (SPEC_ORDER as readonly string[]).indexOf(letter);
    if (rank < 0) fail('spec', `unknown token ${show(token)}`);
    if (rank <= last) {
      fail('spec', `token ${show(token)} out of order or repeated (order: C, M, G, S, N)`);
    }
    last = rank;
    const body = token.slice(1);
    switch (letter) {
      case 'C':
        spec.cpu = parseInt10('C', body);
        break;
      case 'M':
        spec.memGiB = parseInt10('M', body);
        break;
      case 'G': {
        const dash = body.indexOf('-');
        if (dash < 0) fail('spec', `token ${show(token)} must be G<count>-<model>`);
        const model = body.slice(dash + 1);
        if (!MODEL_RE.test(model)) {
          fail(
            'spec',
            `accelerator model code ${show(model)} must be 1-16 upper-case alphanumerics`,
          );
        }
        spec.accel = { count: parseInt10('G', body.slice(0, dash)), model };
        break;
      }
      case 'S':
        spec.storageGiB = parseInt10('S', body);
        break;
      default:
        spec.netGbps = parseInt10('N', body);
    }
  }
  return spec;
}

// ---------------------------------------------------------------- serial

/** 6 base36 characters, upper-case, zero padded: `137` → `'00003T'`. */
export function serialFromNumber(n: number): string {
  if (!Number.isSafeInteger(n) || n < 0 || n >= SERIAL_LIMIT) {
    fail('serial', `serial number ${show(n)} must be an integer in 0..${SERIAL_LIMIT - 1}`);
  }
  return n.toString(36).toUpperCase().padStart(6, '0');
}

export function serialToNumber(serial: string): number {
  if (typeof serial !== 'string' || !SERIAL_RE.test(serial)) {
    fail('serial', `${show(serial)} must be 6 upper-case base36 characters`);
  }
  return parseInt(serial, 36);
}

function checkSerial(serial: unknown): string {
  if (typeof serial !== 'string' || !SERIAL_RE.test(serial)) {
    fail('serial', `${show(serial)} must be 6 upper-case base36 characters`);
  }
  return serial;
}

// ---------------------------------------------------------------- CRI

const SEGMENTS: readonly CriSegment[] = [
  'scheme',
  'registrant',
  'industry',
  'location',
  'class',
  'spec',
  'serial',
  'check',
];

/**
 * Strictly parses a CRI. Throws `CriError` naming the first offending segment (left to right);
 * for a wrong check character, `segment` is `'check'` and `expected` the right one.
 */
export function parseCri(s: string): Cri {
  if (typeof s !== 'string') fail('scheme', `expected a string, got ${typeof s}`);
  if (s.length > CRI_MAX_LENGTH) {
    fail('length', `${s.length} characters, at most ${CRI_MAX_LENGTH} allowed`);
  }
  const parts = s.split(':');
  if (parts[0] !== CRI_SCHEME) {
    fail('scheme', `must start with ${CRI_SCHEME}:, got ${show(parts[0])}`);
  }
  // Segments are checked left to right, so the first offending one is the one named.
  const segment = (i: number): string => {
    const part = parts[i];
    if (part === undefined) fail(SEGMENTS[i] as CriSegment, 'missing');
    return part;
  };

  const registrant = parseRegistrant(segment(1));
  const industry = segment(2);
  if (!INDUSTRY_RE.test(industry)) {
    fail('industry', `${show(industry)} must be one GB/T 4754 section letter A..T`);
  }
  const location = parseLocation(segment(3));
  const classForm = segment(4);
  const dash = classForm.indexOf('-');
  const cls = dash < 0 ? classForm : classForm.slice(0, dash);
  if (!(CRI_CLASSES as readonly string[]).includes(cls)) {
    fail('class', `${show(cls)} must be one of ${CRI_CLASSES.join(', ')}`);
  }
  const form = dash < 0 ? '' : classForm.slice(dash + 1);
  if (!(CRI_FORMS as readonly string[]).includes(form)) {
    fail('form', `${show(form)} must be one of ${CRI_FORMS.join(', ')}`);
  }
  const spec = parseSpec(segment(5));
  const serial = checkSerial(segment(6));
  const check = segment(7);

  const body = parts.slice(0, 7).join(':');
  const expected = checkCharacter(body);
  if (parts.length > 8) {
    fail('check', `unexpected text after the check character`, expected);
  }
  if (!CHECK_RE.test(check)) {
    fail('check', `${show(check)} is not one check character, expected '${expected}'`, expected);
  }
  if (check !== expected) {
    fail('check', `check character is '${check}', expected '${expected}'`, expected);
  }
  return {
    registrant,
    industry,
    location,
    class: cls as CriClass,
    form: form as CriForm,
    spec,
    serial,
    check,
  };
}

/** True when `s` is a valid CRI (check character included). */
export function isCri(s: unknown): s is string {
  try {
    parseCri(s as string);
    return true;
  } catch (e) {
    if (e instanceof CriError) return false;
    throw e;
  }
}

/** Validates every segment, computes the check character and returns the canonical CRI. */
export function formatCri(parts: Omit<Cri, 'check'>): string {
  if (typeof parts !== 'object' || parts === null) fail('scheme', 'expected CRI parts');
  const registrant = formatRegistrant(parts.registrant);
  if (typeof parts.industry !== 'string' || !INDUSTRY_RE.test(parts.industry)) {
    fail('industry', `${show(parts.industry)} must be one GB/T 4754 section letter A..T`);
  }
  const location = formatLocation(parts.location);
  if (!(CRI_CLASSES as readonly unknown[]).includes(parts.class)) {
    fail('class', `${show(parts.class)} must be one of ${CRI_CLASSES.join(', ')}`);
  }
  if (!(CRI_FORMS as readonly unknown[]).includes(parts.form)) {
    fail('form', `${show(parts.form)} must be one of ${CRI_FORMS.join(', ')}`);
  }
  const spec = formatSpec(parts.spec);
  const serial = checkSerial(parts.serial);
  const body = [
    CRI_SCHEME,
    registrant,
    parts.industry,
    location,
    `${parts.class}-${parts.form}`,
    spec,
    serial,
  ].join(':');
  const cri = `${body}:${checkCharacter(body)}`;
  if (cri.length > CRI_MAX_LENGTH) {
    fail('length', `${cri.length} characters, at most ${CRI_MAX_LENGTH} allowed`);
  }
  return cri;
}

// ---------------------------------------------------------------- handles

/** `86.R03.E00042/000137`. */
export function formatHandle(h: CriHandle): string {
  return `${formatRegistrant(h.registrant)}/${checkSerial(h.serial)}`;
}

export function parseHandle(s: string): CriHandle {
  if (typeof s !== 'string') fail('registrant', 'expected a handle string');
  const parts = s.split('/');
  if (parts.length !== 2) fail('registrant', `${show(s)} must be <registrant>/<serial>`);
  const registrant = parseRegistrant(parts[0] as string);
  const serial = checkSerial(parts[1]);
  return { registrant, serial };
}

export function isHandle(s: unknown): s is string {
  try {
    parseHandle(s as string);
    return true;
  } catch (e) {
    if (e instanceof CriError) return false;
    throw e;
  }
}

/**
 * The handle `<registrant>/<serial>` of a CRI, given parsed or as a string (a full CRI, which is
 * validated, or already a handle, which is returned normalized).
 */
export function handleOf(cri: Cri | string): string {
  if (typeof cri === 'string') {
    if (!cri.startsWith(`${CRI_SCHEME}:`) && isHandle(cri)) return cri;
    const parsed = parseCri(cri);
    return formatHandle(parsed);
  }
  return formatHandle(cri);
}
