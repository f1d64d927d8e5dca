import { dirname, join } from 'node:path';
import ts from 'typescript';
import { ERROR_CODES } from '@suanli/contracts';

/** A JSON Schema (2020-12, as OpenAPI 3.1 uses it). */
export type JsonSchema = Record<string, unknown>;

/** Where a zod schema a handler parses with `parseInput(schema, arg)` is exported from. */
export interface SchemaRef {
  /** Absolute path of the module that exports it. */
  file: string;
  exportName: string;
  /** JSDoc of the fields of its (first) `z.object({...})`, by field name. */
  fieldDocs: Record<string, string>;
}

/** What the TypeScript source says about one handler. */
export interface HandlerFacts {
  /**
   * `parseInput(<schema>, <handler parameter #index>)` calls in the handler: the exported zod
   * schema, or for a schema local to its module, a JSON Schema of its input type.
   */
  parsed: { argIndex: number | undefined; schema?: SchemaRef; typeSchema?: JsonSchema }[];
  /** The JSON Schema of what the handler resolves to (Promise unwrapped); undefined for void. */
  response: JsonSchema | undefined;
  /** The response is a file (StreamableFile/Buffer) in some or all cases. */
  binary: boolean;
  /** The JSDoc comment on the handler. */
  description: string | undefined;
  /** The handler's JSDoc `@summary` tag: the operation's one-line title. */
  summary: string | undefined;
  /**
   * The handler's JSDoc `@param` texts, by the handler parameter's index: what a path, query or
   * header parameter means (the route's `@Param('id') id` is documented as `@param id …`).
   */
  paramDocs: (string | undefined)[];
  /**
   * Domain errors the handler may answer with: every `new DomainError('<code>', …, <status>)`
   * in the handler and in the functions it calls (followed through the program's own sources),
   * sorted. An over-approximation: a code listed may be unreachable with valid input.
   */
  errors: DomainErrorFact[];
}

/** One error code a handler may answer with, and its HTTP status. */
export interface DomainErrorFact {
  code: string;
  status: number;
}

/** How many calls deep the error analysis follows (handler → service → helpers …). */
const MAX_CALL_DEPTH = 10;

const MAX_DEPTH = 12;

/**
 * Reads the controllers with the TypeScript compiler: which contract schema each handler parses
 * its body and query with, and the type its handler returns (as a JSON Schema; named interfaces
 * and type aliases become components).
 */
export class SourceAnalysis {
  readonly components: Record<string, JsonSchema> = {};
  private readonly program: ts.Program;
  private readonly checker: ts.TypeChecker;
  private readonly componentOf = new Map<ts.Type, string>();

  constructor(files: string[], root: string) {
    const cfg = ts.readConfigFile(join(root, 'tsconfig.base.json'), ts.sys.readFile);
    const parsed = ts.parseJsonConfigFileContent(cfg.config, ts.sys, root);
    this.program = ts.createProgram(files, { ...parsed.options, noEmit: true });
    this.checker = this.program.getTypeChecker();
  }

  /** The facts about `controller.handler`, found in any of the analysed files. */
  handler(controller: string, handler: string): HandlerFacts | undefined {
    for (const sf of this.program.getSourceFiles()) {
      if (sf.isDeclarationFile || !/\.controller\.ts$/.test(sf.fileName)) continue;
      for (const st of sf.statements) {
        if (!ts.isClassDeclaration(st) || st.name?.text !== controller) continue;
        for (const m of st.members) {
          if (ts.isMethodDeclaration(m) && m.name.getText(sf) === handler) {
            return this.facts(m);
          }
        }
      }
    }
    return undefined;
  }

  private facts(m: ts.MethodDeclaration): HandlerFacts {
    const params = m.parameters.map((p) => p.name.getText());
    const parsed: HandlerFacts['parsed'] = [];
    const visit = (n: ts.Node): void => {
      if (
        ts.isCallExpression(n) &&
        ts.isIdentifier(n.expression) &&
        n.expression.text === 'parseInput' &&
        n.arguments.length >= 2
      ) {
        const schema = this.exportOf(n.arguments[0]);
        const arg = n.arguments[1];
        const idx = ts.isIdentifier(arg) ? params.indexOf(arg.text) : -1;
        const argIndex = idx >= 0 ? idx : undefined;
        if (schema) parsed.push({ argIndex, schema });
        else {
          const typeSchema = this.zodInputSchema(n.arguments[0]);
          if (typeSchema) parsed.push({ argIndex, typeSchema });
        }
      }
      ts.forEachChild(n, visit);
    };
    if (m.body) visit(m.body);
    const sig = this.checker.getSignatureFromDeclaration(m);
    let response: JsonSchema | undefined;
    let binary = false;
    if (sig) {
      let t = this.checker.getReturnTypeOfSignature(sig);
      t = this.unwrapPromise(t);
      const parts = t.isUnion() ? t.types : [t];
      const kept = parts.filter((p) => {
        const name = p.getSymbol()?.getName();
        if (name === 'StreamableFile' || name === 'Buffer') {
          binary = true;
          return false;
        }
        return true;
      });
      const voidish = kept.every(
        (p) => (p.flags & (ts.TypeFlags.Void | ts.TypeFlags.Undefined)) !== 0,
      );
      if (!voidish) {
        response =
          kept.length === 1
            ? this.schemaOf(kept[0], 0)
            : { anyOf: kept.map((k) => this.schemaOf(k, 0)) };
      }
    }
    const doc = ts
      .getJSDocCommentsAndTags(m)
      .filter(ts.isJSDoc)
      .map((d) => ts.getTextOfJSDocComment(d.comment) ?? '')
      .join('\n')
      .trim();
    const paramDocs = m.parameters.map((p) => {
      const text = ts
        .getJSDocParameterTags(p)
        .map((t) => ts.getTextOfJSDocComment(t.comment) ?? '')
        .join(' ')
        .replace(/^\s*-\s*/, '')
        .replace(/\s+/g, ' ')
        .trim();
      return text === '' ? undefined : text;
    });
    const summary = ts
      .getJSDocTags(m)
      .filter((t) => t.tagName.text === 'summary')
      .map((t) => (ts.getTextOfJSDocComment(t.comment) ?? '').replace(/\s+/g, ' ').trim())
      .find((t) => t !== '');
    return {
      parsed,
      response,
      binary,
      description: doc === '' ? undefined : doc,
      summary,
      paramDocs,
      errors: this.errorsOf(m),
    };
  }

  private readonly errorsByFunction = new Map<ts.Node, DomainErrorFact[]>();

  /** The domain errors `fn` raises itself or through the functions it calls (see HandlerFacts). */
  private errorsOf(fn: ts.SignatureDeclaration): DomainErrorFact[] {
    const found = new Map<string, DomainErrorFact>();
    const seen = new Set<ts.Node>();
    const walk = (decl: ts.SignatureDeclaration, depth: number): void => {
      if (seen.has(decl) || depth > MAX_CALL_DEPTH) return;
      seen.add(decl);
      const cached = this.errorsByFunction.get(decl);
      if (cached) {
        for (const e of cached) found.set(`${e.status} ${e.code}`, e);
        return;
      }
      const visit = (n: ts.Node): void => {
        if (
          ts.isNewExpression(n) &&
          ts.isIdentifier(n.expression) &&
          n.expression.text === 'DomainError'
        ) {
          const [code, , status] = n.arguments ?? [];
          if (code && status && ts.isStringLiteralLike(code) && ts.isNumericLiteral(status)) {
            const e = { code: code.text, status: Number(status.text) };
            found.set(`${e.status} ${e.code}`, e);
          }
        } else if (ts.isCallExpression(n) || ts.isNewExpression(n)) {
          // an error factory called with a literal code and status: `refuse('unknown_key', 422)`
          const [code, status] = n.arguments ?? [];
          if (
            code &&
            status &&
            ts.isStringLiteralLike(code) &&
            ts.isNumericLiteral(status) &&
            (ERROR_CODES as readonly string[]).includes(code.text)
          ) {
            const e = { code: code.text, status: Number(status.text) };
            found.set(`${e.status} ${e.code}`, e);
          }
          const target = this.checker.getResolvedSignature(n)?.declaration;
          if (target && !ts.isJSDocSignature(target) && this.isOwnCode(target)) {
            walk(target, depth + 1);
          }
        }
        ts.forEachChild(n, visit);
      };
      const body = (decl as { body?: ts.Node }).body;
      if (body) visit(body);
    };
    walk(fn, 0);
    const out = [...found.values()].sort(
      (a, b) => a.status - b.status || a.code.localeCompare(b.code),
    );
    this.errorsByFunction.set(fn, out);
    return out;
  }

  /** Functions of this repository with a body (not a library's, not a declaration). */
  private isOwnCode(decl: ts.SignatureDeclaration): boolean {
    const sf = decl.getSourceFile();
    return (
      !sf.isDeclarationFile &&
      !sf.fileName.includes('/node_modules/') &&
      (decl as { body?: ts.Node }).body !== undefined
    );
  }

  private exportOf(expr: ts.Expression): SchemaRef | undefined {
    if (!ts.isIdentifier(expr)) return undefined;
    let sym = this.checker.getSymbolAtLocation(expr);
    if (!sym) return undefined;
    if (sym.flags & ts.SymbolFlags.Alias) sym = this.checker.getAliasedSymbol(sym);
    const decl = sym.declarations?.[0];
    if (!decl) return undefined;
    const sf = decl.getSourceFile();
    const exported = this.checker
      .getExportsOfModule(this.checker.getSymbolAtLocation(sf) ?? sym)
      .some((e) => e.getName() === sym.getName());
    if (!exported) return undefined;
    return { file: sf.fileName, exportName: sym.getName(), fieldDocs: this.fieldDocs(decl) };
  }

  private fieldDocs(decl: ts.Declaration): Record<string, string> {
    const docs: Record<string, string> = {};
    let literal: ts.ObjectLiteralExpression | undefined;
    const find = (n: ts.Node): void => {
      if (literal) return;
      if (
        ts.isCallExpression(n) &&
        ts.isPropertyAccessExpression(n.expression) &&
        n.expression.name.text === 'object' &&
        n.arguments[0] &&
        ts.isObjectLiteralExpression(n.arguments[0])
      ) {
        literal = n.arguments[0];
        return;
      }
      ts.forEachChild(n, find);
    };
    find(decl);
    for (const p of literal?.properties ?? []) {
      if (!p.name || !ts.isIdentifier(p.name)) continue;
      const text = ts
        .getJSDocCommentsAndTags(p)
        .filter(ts.isJSDoc)
        .map((d) => ts.getTextOfJSDocComment(d.comment) ?? '')
        .join(' ')
        .trim();
      if (text) docs[p.name.text] = text;
    }
    return docs;
  }

  /** The JSON Schema of a zod schema's input type (`z.input<typeof s>`), from its TS type. */
  private zodInputSchema(expr: ts.Expression): JsonSchema | undefined {
    const t = this.checker.getTypeAtLocation(expr);
    const input = t.getProperty('_input');
    if (!input) return undefined;
    const schema = this.schemaOf(this.checker.getTypeOfSymbol(input), 0);
    return schema.type === 'object' ? { ...schema, additionalProperties: false } : schema;
  }

  private unwrapPromise(t: ts.Type): ts.Type {
    const sym = t.getSymbol();
    if (sym?.getName() === 'Promise') {
      const args = this.checker.getTypeArguments(t as ts.TypeReference);
      if (args.length === 1) return args[0];
    }
    return t;
  }

  private componentName(t: ts.Type): string | undefined {
    const alias = t.aliasSymbol;
    if (alias && (t.aliasTypeArguments?.length ?? 0) === 0) return this.fromLibs(alias);
    const sym = t.getSymbol();
    if (!sym || !(sym.flags & ts.SymbolFlags.Interface)) return undefined;
    if ((t as ts.TypeReference).typeArguments?.length) return undefined;
    return this.fromLibs(sym);
  }

  /** Names declared in this repository's sources (not in a package) are worth a component. */
  private fromLibs(sym: ts.Symbol): string | undefined {
    const decl = sym.declarations?.[0];
    if (!decl) return undefined;
    const file = decl.getSourceFile().fileName;
    if (file.includes('/node_modules/') || file.endsWith('.d.ts')) return undefined;
    return sym.getName();
  }

  private schemaOf(t: ts.Type, depth: number): JsonSchema {
    if (depth > MAX_DEPTH) return {};
    const name = this.componentName(t);
    if (name) {
      const known = this.componentOf.get(t);
      if (known) return { $ref: `#/components/schemas/${known}` };
      let unique = name;
      for (let i = 2; unique in this.components; i++) unique = `${name}${i}`;
      this.componentOf.set(t, unique);
      this.components[unique] = {};
      this.components[unique] = this.structural(t, depth);
      return { $ref: `#/components/schemas/${unique}` };
    }
    return this.structural(t, depth);
  }

  private structural(t: ts.Type, depth: number): JsonSchema {
    const f = t.flags;
    if (f & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) return {};
    if (f & ts.TypeFlags.Null) return { type: 'null' };
    if (t.isStringLiteral()) return { type: 'string', const: t.value };
    if (t.isNumberLiteral()) return { type: 'number', const: t.value };
    if (f & ts.TypeFlags.BooleanLiteral) {
      return { type: 'boolean', const: this.checker.typeToString(t) === 'true' };
    }
    if (f & ts.TypeFlags.StringLike) return { type: 'string' };
    if (f & ts.TypeFlags.NumberLike) return { type: 'number' };
    if (f & ts.TypeFlags.BooleanLike) return { type: 'boolean' };
    if (f & ts.TypeFlags.BigIntLike) return { type: 'string' };
    if (t.isUnion()) return this.union(t.types, depth);
    if (t.isIntersection()) {
      return this.objectSchema(t, depth);
    }
    const sym = t.getSymbol();
    const symName = sym?.getName();
    if (symName === 'Date') return { type: 'string', format: 'date-time' };
    if (this.checker.isArrayType(t) || symName === 'ReadonlyArray') {
      const [item] = this.checker.getTypeArguments(t as ts.TypeReference);
      return { type: 'array', items: item ? this.schemaOf(item, depth + 1) : {} };
    }
    if (this.checker.isTupleType(t)) {
      const items = this.checker.getTypeArguments(t as ts.TypeReference);
      return {
        type: 'array',
        prefixItems: items.map((i) => this.schemaOf(i, depth + 1)),
        minItems: items.length,
        maxItems: items.length,
      };
    }
    if (f & ts.TypeFlags.Object) {
      // A value with toJSON() is serialized as what toJSON returns (Decimal → string).
      const toJson = t.getProperty('toJSON');
      if (toJson) {
        const tj = this.checker.getTypeOfSymbol(toJson);
        const sig = tj.getCallSignatures()[0];
        if (sig) return this.schemaOf(this.checker.getReturnTypeOfSignature(sig), depth + 1);
      }
      return this.objectSchema(t, depth);
    }
    return {};
  }

  private union(types: readonly ts.Type[], depth: number): JsonSchema {
    const parts = types.filter((x) => !(x.flags & (ts.TypeFlags.Undefined | ts.TypeFlags.Void)));
    const bools = parts.filter((x) => x.flags & ts.TypeFlags.BooleanLiteral);
    const rest = parts.filter((x) => !(x.flags & ts.TypeFlags.BooleanLiteral));
    const schemas: JsonSchema[] = rest.map((x) => this.schemaOf(x, depth + 1));
    if (bools.length === 2) schemas.push({ type: 'boolean' });
    else if (bools.length === 1) schemas.push(this.schemaOf(bools[0], depth + 1));
    // string literals (and null) → one enum
    const lits = schemas.filter((s) => s.type === 'string' && 'const' in s);
    if (lits.length === schemas.length || (lits.length > 1 && lits.length === schemas.length - 1)) {
      const hasNull = schemas.some((s) => s.type === 'null');
      if (lits.length === schemas.length - (hasNull ? 1 : 0)) {
        return {
          type: hasNull ? ['string', 'null'] : 'string',
          enum: [...lits.map((s) => s.const), ...(hasNull ? [null] : [])],
        };
      }
    }
    if (schemas.length === 1) return schemas[0];
    const simple = schemas.every(
      (s) => typeof s.type === 'string' && Object.keys(s).length === 1 && s.type !== 'array',
    );
    if (simple) return { type: [...new Set(schemas.map((s) => s.type as string))] };
    return { anyOf: schemas };
  }

  private objectSchema(t: ts.Type, depth: number): JsonSchema {
    const properties: Record<string, JsonSchema> = {};
    const required: string[] = [];
    for (const p of this.checker.getPropertiesOfType(t)) {
      const decl = p.valueDeclaration ?? p.declarations?.[0];
      const pt = this.checker.getTypeOfSymbol(p);
      if (pt.getCallSignatures().length > 0) continue;
      const optional =
        (p.flags & ts.SymbolFlags.Optional) !== 0 ||
        (pt.isUnion() && pt.types.some((x) => x.flags & ts.TypeFlags.Undefined)) ||
        (pt.flags & ts.TypeFlags.Undefined) !== 0;
      const s = this.schemaOf(pt, depth + 1);
      const doc = decl
        ? ts
            .getJSDocCommentsAndTags(decl)
            .filter(ts.isJSDoc)
            .map((d) => ts.getTextOfJSDocComment(d.comment) ?? '')
            .join(' ')
            .trim()
        : '';
      properties[p.getName()] = doc && !('$ref' in s) ? { ...s, description: doc } : s;
      if (!optional) required.push(p.getName());
    }
    const out: JsonSchema = { type: 'object', properties };
    if (required.length > 0) out.required = required;
    const index = this.checker.getIndexInfosOfType(t);
    if (index.length > 0) out.additionalProperties = this.schemaOf(index[0].type, depth + 1);
    return out;
  }
}

/** The controller files under a source directory (recursive). */
export function controllerFiles(dir: string): string[] {
  return ts.sys
    .readDirectory(dir, ['.ts'], undefined, ['**/*.controller.ts'])
    .filter((f) => f.endsWith('.controller.ts'))
    .map((f) => join(dirname(f), f.slice(dirname(f).length + 1)));
}
