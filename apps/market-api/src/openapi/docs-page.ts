import { createHash } from 'node:crypto';
import type { OpenApiDocument, Operation, Parameter } from './openapi-document.js';
import type { JsonSchema } from './source-analysis.js';

const esc = (s: string): string =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );

/** The little Markdown the descriptions use: `code`, **bold**, paragraphs and `- ` lists. */
function md(text: string): string {
  const inline = (s: string): string =>
    esc(s)
      .replace(/`([^`]+)`/g, '<code>$1</code>')
      .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>');
  return text
    .split(/\n{2,}/)
    .map((block) => {
      const lines = block.split('\n');
      if (lines.every((l) => l.startsWith('- '))) {
        return `<ul>${lines.map((l) => `<li>${inline(l.slice(2))}</li>`).join('')}</ul>`;
      }
      return `<p>${inline(block.replace(/\n/g, ' '))}</p>`;
    })
    .join('');
}

const anchor = (s: string): string => s.replace(/[^A-Za-z0-9_-]/g, '-');

function typeLabel(s: JsonSchema): string {
  if (typeof s.$ref === 'string') {
    const name = s.$ref.split('/').pop() ?? '';
    return `<a href="#schema-${anchor(name)}">${esc(name)}</a>`;
  }
  if ('const' in s) return `<code>${esc(JSON.stringify(s.const))}</code>`;
  if (Array.isArray(s.enum)) {
    return s.enum.map((v) => `<code>${esc(JSON.stringify(v))}</code>`).join(' | ');
  }
  const alts = (s.anyOf ?? s.oneOf) as JsonSchema[] | undefined;
  if (alts) return alts.map(typeLabel).join(' | ');
  if (s.type === 'array') return `array of ${typeLabel((s.items as JsonSchema) ?? {})}`;
  const t = Array.isArray(s.type) ? s.type.join(' | ') : ((s.type as string) ?? 'any');
  return esc(s.format ? `${t} (${String(s.format)})` : t);
}

const CONSTRAINTS = [
  'pattern',
  'minLength',
  'maxLength',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'minItems',
  'maxItems',
  'default',
] as const;

function constraints(s: JsonSchema): string {
  return CONSTRAINTS.filter((k) => s[k] !== undefined)
    .map((k) => `${k}: <code>${esc(JSON.stringify(s[k]))}</code>`)
    .join(', ');
}

/** A schema as a nested table of properties (objects) or one type line. */
function schemaTable(s: JsonSchema, depth = 0): string {
  const props = s.properties as Record<string, JsonSchema> | undefined;
  if (!props || depth > 4) {
    const items = s.items as JsonSchema | undefined;
    const inner = s.type === 'array' && items?.properties ? schemaTable(items, depth + 1) : '';
    const c = constraints(s);
    return `<div class="type">${typeLabel(s)}${c ? ` <span class="c">${c}</span>` : ''}</div>${inner}`;
  }
  const required = new Set((s.required as string[] | undefined) ?? []);
  const rows = Object.entries(props)
    .map(([name, p]) => {
      const nested =
        p.properties || (p.type === 'array' && (p.items as JsonSchema | undefined)?.properties)
          ? schemaTable(p.properties ? p : (p.items as JsonSchema), depth + 1)
          : '';
      const c = constraints(p);
      return (
        `<tr><td><code>${esc(name)}</code>${required.has(name) ? ' <span class="req">required</span>' : ''}</td>` +
        `<td>${typeLabel(p)}${c ? `<div class="c">${c}</div>` : ''}` +
        `${typeof p.description === 'string' ? `<div>${md(p.description)}</div>` : ''}${nested}</td></tr>`
      );
    })
    .join('');
  const extra =
    s.additionalProperties === false ? '<div class="c">No other fields are accepted.</div>' : '';
  return `<table class="schema"><tbody>${rows}</tbody></table>${extra}`;
}

function parametersTable(ps: Parameter[]): string {
  const rows = ps
    .map(
      (p) =>
        `<tr><td><code>${esc(p.name)}</code>${p.required ? ' <span class="req">required</span>' : ''}</td>` +
        `<td>${esc(p.in)}</td><td>${typeLabel(p.schema)}${constraints(p.schema) ? `<div class="c">${constraints(p.schema)}</div>` : ''}` +
        `${p.description ? md(p.description) : ''}</td></tr>`,
    )
    .join('');
  return `<table class="params"><thead><tr><th>Name</th><th>In</th><th>Type</th></tr></thead><tbody>${rows}</tbody></table>`;
}

interface Media {
  schema?: JsonSchema;
  example?: unknown;
}

function content(c: Record<string, Media> | undefined): string {
  if (!c) return '';
  return Object.entries(c)
    .map(
      ([type, m]) =>
        `<div class="media"><span class="mt">${esc(type)}</span>${m.schema ? schemaTable(m.schema) : ''}` +
        (m.example !== undefined
          ? `<details><summary>Example</summary><pre>${esc(JSON.stringify(m.example, null, 2))}</pre></details>`
          : '') +
        '</div>',
    )
    .join('');
}

function operation(doc: OpenApiDocument, path: string, method: string, op: Operation): string {
  const responses = Object.entries(op.responses)
    .map(([status, r0]) => {
      let r = r0 as { $ref?: string; description?: string; content?: Record<string, Media> };
      if (r.$ref) {
        const name = r.$ref.split('/').pop() ?? '';
        r = (doc.components.responses as Record<string, typeof r>)[name] ?? r;
      }
      return `<tr><td class="st s${status[0]}">${esc(status)}</td><td>${md(r.description ?? '')}${status < '400' ? content(r.content) : ''}</td></tr>`;
    })
    .join('');
  const body = op.requestBody as { content?: Record<string, Media> } | undefined;
  return (
    `<section class="op" id="op-${anchor(op.operationId)}">` +
    `<h3><span class="m ${method}">${method.toUpperCase()}</span> <code>${esc(path)}</code></h3>` +
    `<p class="sum">${esc(String(op.summary ?? ''))}</p>` +
    md(String(op.description ?? '')) +
    (op.parameters?.length ? `<h4>Parameters</h4>${parametersTable(op.parameters)}` : '') +
    (body ? `<h4>Request body</h4>${content(body.content)}` : '') +
    `<h4>Responses</h4><table class="resp"><tbody>${responses}</tbody></table>` +
    `<p class="oid">operationId <code>${esc(op.operationId)}</code></p></section>`
  );
}

const STYLE = `body{font:15px/1.5 system-ui,sans-serif;margin:0;color:#1a1a1a;display:flex}
nav{width:340px;flex:none;height:100vh;overflow:auto;position:sticky;top:0;background:#f5f6f8;padding:12px;box-sizing:border-box;font-size:13px}
nav a{display:block;color:#1a1a1a;text-decoration:none;padding:1px 0;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}nav h2{font-size:13px;margin:12px 0 4px;text-transform:uppercase;color:#555}
main{flex:1;padding:16px 32px;max-width:1000px}code{font:13px ui-monospace,monospace;background:#f0f1f3;padding:0 3px;border-radius:3px}
.op{border-top:1px solid #ddd;padding:12px 0}.m{font:bold 12px monospace;padding:2px 6px;border-radius:3px;color:#fff;background:#555}
.get{background:#2b7bb9}.post{background:#2e8540}.patch{background:#b07b00}.put{background:#8a4baf}.delete{background:#c0392b}
table{border-collapse:collapse;width:100%;margin:4px 0}td,th{border:1px solid #e2e2e2;padding:4px 6px;vertical-align:top;text-align:left}
.req{color:#c0392b;font-size:11px}.c{color:#666;font-size:12px}.st{font-weight:bold;width:48px}.s2{color:#2e8540}.s4{color:#c0392b}
.mt{font:12px monospace;color:#555}pre{background:#f5f6f8;padding:8px;overflow:auto;font-size:12px}.oid{color:#888;font-size:12px}.sum{font-weight:600}`;

/** The inline stylesheet's CSP hash (the page needs no script and no other origin). */
export const DOCS_STYLE_HASH = `sha256-${createHash('sha256').update(STYLE).digest('base64')}`;

/** A static, self-contained HTML reference of the document: no scripts, no CDN. */
export function renderDocsPage(doc: OpenApiDocument): string {
  const info = doc.info as { title: string; version: string; description: string };
  const byTag = new Map<string, { path: string; method: string; op: Operation }[]>();
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const tag = ((op.tags as string[] | undefined) ?? ['Other'])[0];
      if (!byTag.has(tag)) byTag.set(tag, []);
      byTag.get(tag)?.push({ path, method, op });
    }
  }
  const tags = [...byTag.keys()].sort();
  const navOps = tags
    .map(
      (t) =>
        `<h2>${esc(t)}</h2>` +
        (byTag.get(t) ?? [])
          .map(
            (o) =>
              `<a href="#op-${anchor(o.op.operationId)}"><span class="m ${o.method}">${o.method.toUpperCase()}</span> ${esc(o.path)}</a>`,
          )
          .join(''),
    )
    .join('');
  const sections = tags
    .map(
      (t) =>
        `<h2 id="tag-${anchor(t)}">${esc(t)}</h2>` +
        (byTag.get(t) ?? []).map((o) => operation(doc, o.path, o.method, o.op)).join(''),
    )
    .join('');
  const schemas = Object.entries(doc.components.schemas)
    .map(
      ([name, s]) =>
        `<section class="op" id="schema-${anchor(name)}"><h3>${esc(name)}</h3>${typeof s.description === 'string' ? md(s.description) : ''}${schemaTable(s)}</section>`,
    )
    .join('');
  return (
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">` +
    `<title>${esc(info.title)} ${esc(info.version)}</title><style>${STYLE}</style></head><body>` +
    `<nav><strong>${esc(info.title)}</strong> <span class="c">${esc(info.version)}</span>` +
    `<p><a href="/openapi.json">openapi.json</a></p>${navOps}<h2><a href="#schemas">Schemas</a></h2></nav>` +
    `<main><h1>${esc(info.title)} <span class="c">${esc(info.version)} · OpenAPI ${esc(String(doc.openapi))}</span></h1>` +
    md(info.description) +
    sections +
    `<h2 id="schemas">Schemas</h2>${schemas}</main></body></html>`
  );
}
