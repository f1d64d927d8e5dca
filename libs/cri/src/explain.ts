import {
  parseCri,
  formatRegistrant,
  formatSpec,
  handleOf,
  serialToNumber,
  type Cri,
} from './cri.js';

/** GB/T 4754-2017 sections (the industry segment). */
export const INDUSTRY_SECTIONS: Readonly<Record<string, string>> = {
  A: 'agriculture, forestry, animal husbandry and fishery',
  B: 'mining',
  C: 'manufacturing',
  D: 'electricity, heat, gas and water production and supply',
  E: 'construction',
  F: 'wholesale and retail trade',
  G: 'transport, storage and post',
  H: 'accommodation and catering',
  I: 'information transmission, software and information technology services',
  J: 'finance',
  K: 'real estate',
  L: 'leasing and business services',
  M: 'scientific research and technical services',
  N: 'water conservancy, environment and public facilities management',
  O: 'resident, repair and other services',
  P: 'education',
  Q: 'health and social work',
  R: 'culture, sports and entertainment',
  S: 'public administration, social security and social organizations',
  T: 'international organizations',
};

export const CLASS_NAMES: Readonly<Record<string, string>> = {
  GEN: 'general computing (通算)',
  AI: 'intelligent computing (智算)',
  HPC: 'supercomputing (超算)',
};

export const FORM_NAMES: Readonly<Record<string, string>> = {
  BM: 'bare metal',
  VM: 'virtual machine',
  CTR: 'container',
  API: 'API endpoint',
  JOB: 'batch queue',
};

const PLATFORM_KINDS: Readonly<Record<string, string>> = {
  N: 'national',
  R: 'regional',
  I: 'industry',
};

/** One decoded segment: its name, its text in the code and what it means. */
export type CriField = { field: string; value: string; meaning: string };

/** The decoded fields of a valid CRI, in code order, then its handle. Throws `CriError`. */
export function explainCri(code: string | Cri): CriField[] {
  const c = typeof code === 'string' ? parseCri(code) : code;
  const r = c.registrant;
  const kind = PLATFORM_KINDS[r.platform.charAt(0)] ?? 'unknown';
  const specParts: string[] = [];
  if (c.spec.cpu !== undefined) specParts.push(`${c.spec.cpu} vCPU`);
  if (c.spec.memGiB !== undefined) specParts.push(`${c.spec.memGiB} GiB memory`);
  if (c.spec.accel !== undefined)
    specParts.push(`${c.spec.accel.count} x ${c.spec.accel.model} accelerator`);
  if (c.spec.storageGiB !== undefined) specParts.push(`${c.spec.storageGiB} GiB storage`);
  if (c.spec.netGbps !== undefined) specParts.push(`${c.spec.netGbps} Gbit/s network`);
  const l = c.location;
  return [
    { field: 'scheme', value: 'CRI1', meaning: 'compute resource identifier, version 1' },
    {
      field: 'registrant',
      value: formatRegistrant(r),
      meaning: `root ${r.root}, ${kind} platform ${r.platform}, entity ${r.entity}`,
    },
    {
      field: 'industry',
      value: c.industry,
      meaning: `GB/T 4754 section ${c.industry}: ${INDUSTRY_SECTIONS[c.industry] ?? 'unknown'}`,
    },
    {
      field: 'location',
      value: `${l.country}-${l.subdivision}.${l.site}`,
      meaning: `country ${l.country}, subdivision ${l.country}-${l.subdivision}, site ${l.site}`,
    },
    { field: 'class', value: c.class, meaning: CLASS_NAMES[c.class] ?? c.class },
    { field: 'form', value: c.form, meaning: FORM_NAMES[c.form] ?? c.form },
    { field: 'spec', value: formatSpec(c.spec), meaning: specParts.join(', ') },
    {
      field: 'serial',
      value: c.serial,
      meaning: `resource number ${serialToNumber(c.serial)} of the registrant`,
    },
    { field: 'check', value: c.check, meaning: 'ISO/IEC 7064 MOD 37,36 check character (valid)' },
    { field: 'handle', value: handleOf(c), meaning: 'stable key for resolution' },
  ];
}
