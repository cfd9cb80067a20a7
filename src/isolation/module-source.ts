/**
 * ES-module unit code (`format: 'module'`): checked and turned into the script body the guest
 * already evaluates in its SES Compartment (guest.ts), with no authority added.
 *
 * Mechanism: the source is parsed as a module by acorn (a real parser: `import` inside a
 * string, a comment or a property name is not code). Refused, before any of it runs, with the
 * construct named (never the source): `import` declarations, `export … from`, named exports,
 * dynamic `import()`, `import.meta`, any reference to `require`, a direct `eval(…)` call,
 * top-level `await`, a default export that is a class, an async function or a generator, and
 * anything acorn does not parse (two default exports, `\u0069mport(…)`: escaped keywords are
 * syntax errors). What is left is code that can reach nothing but its globals, and those are
 * the compartment's: `unit`, frozen intrinsics, and SES's own `eval`/`Function`, which reject
 * any source that might hold an `import(` (their code runs in the compartment too).
 *
 * Rewrite: the module body goes into a block inside the guest's `function (unit)` wrapper
 * (strict, as module code is); the one `export default` becomes an assignment to a fresh name,
 * called with the real `unit` when the body has run. SES's evaluator rejects, by regular
 * expression, any text like `import(` or an HTML comment marker, even in strings and comments;
 * the parse tells us where those are, so comments are blanked and such text in strings,
 * untagged templates and names is written with a `\uXXXX` escape (the same value). Inside a
 * regular expression or a tagged template that would change the value: refused instead.
 * SES's own module loading (ModuleSource) needs Babel to parse; this needs only acorn.
 */
import { parse, type Node, type Program, type Token } from 'acorn';
import { SluiceError } from '../errors.js';

/** How a unit's source is given: a script body whose only global is `unit`, or an ES module. */
export type UnitFormat = 'script' | 'module';

/** An ES-module unit uses a construct that could reach outside its compartment, or does not parse. */
export class ModuleRefusedError extends SluiceError {
  /** What was refused, e.g. `import-declaration`, `dynamic-import`, `syntax`. */
  readonly refused: string;
  readonly line: number;
  readonly column: number;
  constructor(refused: string, what: string, line: number, column: number) {
    super('E_MODULE_REFUSED', `unit module refused: ${what} (line ${line}, column ${column})`);
    this.refused = refused;
    this.line = line;
    this.column = column;
  }
}

type AnyNode = Node & Record<string, unknown>;

const WHAT: Readonly<Record<string, string>> = {
  'import-declaration': 'an import declaration (a unit module imports nothing)',
  'export-from': 'an `export … from` declaration',
  'named-export': 'a named export (a unit module has one `export default`, or none)',
  'dynamic-import': 'a dynamic import()',
  'import-meta': 'import.meta',
  require: 'a reference to `require`',
  'direct-eval': 'a direct eval(…) call (use (0, eval)(…): it sees only the compartment)',
  'top-level-await': 'a top-level await (a unit loads synchronously)',
  'default-export': 'a default export that is a class, an async function or a generator',
  literal: '`import(` or an HTML comment marker inside a regular expression or tagged template',
};

const IMPORT = /(^|[^.]|\.\.\.)\bimport(\s*(?:\(|\/[/*]))/g;
const HTML_OPEN = /<!--/g;
const HTML_CLOSE = /-->/g;

function refuse(kind: string, src: string, pos: number, what = WHAT[kind] ?? kind): never {
  let line = 1;
  let lineStart = 0;
  for (let i = src.indexOf('\n'); i !== -1 && i < pos; i = src.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  throw new ModuleRefusedError(kind, what, line, pos - lineStart);
}

const FUNCTIONS = new Set(['FunctionDeclaration', 'FunctionExpression', 'ArrowFunctionExpression']);

function isNode(x: unknown): x is AnyNode {
  return typeof x === 'object' && x !== null && typeof (x as { type?: unknown }).type === 'string';
}

/** Whether `key` of `parent` names something rather than referring to a binding. */
function isName(parent: AnyNode, key: string): boolean {
  if (parent.computed === true) return false;
  if (key === 'property') return parent.type === 'MemberExpression';
  if (key === 'key') return true;
  return key === 'label';
}

/** Refuses what could reach outside; collects tagged templates' ranges (for the rewrite). */
function check(
  src: string,
  program: Program,
  tagged: [number, number][],
  asyncDefault: boolean,
): void {
  const visit = (n: AnyNode, fnDepth: number): void => {
    switch (n.type) {
      case 'ImportDeclaration':
        refuse('import-declaration', src, n.start);
        break;
      case 'ExportAllDeclaration':
        refuse('export-from', src, n.start);
        break;
      case 'ExportNamedDeclaration':
        refuse(n.source == null ? 'named-export' : 'export-from', src, n.start);
        break;
      case 'ImportExpression':
        refuse('dynamic-import', src, n.start);
        break;
      case 'MetaProperty':
        if ((n.meta as AnyNode).name === 'import') refuse('import-meta', src, n.start);
        break;
      case 'Identifier':
        if (n.name === 'require') refuse('require', src, n.start);
        break;
      case 'CallExpression':
        if ((n.callee as AnyNode).type === 'Identifier' && (n.callee as AnyNode).name === 'eval')
          refuse('direct-eval', src, n.start);
        break;
      case 'AwaitExpression':
        if (fnDepth === 0) refuse('top-level-await', src, n.start);
        break;
      case 'ForOfStatement':
        if (n.await === true && fnDepth === 0) refuse('top-level-await', src, n.start);
        break;
      case 'TaggedTemplateExpression':
        tagged.push([(n.quasi as AnyNode).start, (n.quasi as AnyNode).end]);
        break;
      case 'ExportDefaultDeclaration': {
        const d = n.declaration as AnyNode;
        if (
          d.type.startsWith('Class') ||
          (d.async === true && !asyncDefault) ||
          d.generator === true
        )
          refuse('default-export', src, n.start);
        break;
      }
    }
    const depth = FUNCTIONS.has(n.type) ? fnDepth + 1 : fnDepth;
    for (const key of Object.keys(n)) {
      const v = n[key];
      if (Array.isArray(v)) {
        for (const c of v) if (isNode(c)) visit(c, depth);
      } else if (isNode(v) && !(v.type === 'Identifier' && isName(n, key))) {
        visit(v, depth);
      }
    }
  };
  visit(program as unknown as AnyNode, 0);
}

interface Edit {
  readonly at: number;
  readonly cut: number;
  readonly put: string;
}

/** The position `i` in a string or template written as a `\uXXXX` escape (the same value). */
function escapeAt(text: string, i: number): Edit {
  let slashes = 0;
  while (text[i - 1 - slashes] === '\\') slashes++;
  const code = `\\u${text.charCodeAt(i).toString(16).padStart(4, '0')}`;
  // `\i` (an identity escape) is replaced whole; `\\i` is an escaped backslash, then `i`.
  return slashes % 2 === 1 ? { at: i - 1, cut: 2, put: code } : { at: i, cut: 1, put: code };
}

/** Edits that keep SES's text checks from refusing what the parse showed harmless. */
function evasions(src: string, text: string, tokens: Token[], tagged: [number, number][]): Edit[] {
  const edits: Edit[] = [];
  const tokenAt = (pos: number): Token | undefined => {
    let lo = 0;
    let hi = tokens.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const t = tokens[mid] as Token;
      if (t.end <= pos) lo = mid + 1;
      else if (t.start > pos) hi = mid - 1;
      else return t;
    }
    return undefined;
  };
  const inLiteral = (t: Token, pos: number): void => {
    const label = t.type.label;
    const isTagged = tagged.some(([a, b]) => t.start >= a && t.end <= b);
    if (label === 'regexp' || (label.endsWith('emplate') && isTagged)) refuse('literal', src, pos);
    edits.push(escapeAt(text, pos));
  };
  // Overlapping matches too (`import//import//`: a match takes the character before `import`).
  const importAt = new RegExp(IMPORT.source, 'g');
  for (let m = importAt.exec(text); m !== null; m = importAt.exec(text)) {
    const pos = m.index + (m[1] as string).length;
    const t = tokenAt(pos);
    if (t === undefined) refuse('dynamic-import', src, pos);
    inLiteral(t, pos);
    importAt.lastIndex = pos + 1;
  }
  for (const m of [...text.matchAll(HTML_OPEN), ...text.matchAll(HTML_CLOSE)]) {
    const t = tokenAt(m.index);
    if (t === undefined) continue;
    // Operators (`a-->b`, `a<!--b`): a space between two tokens changes nothing.
    if (t.end < m.index + m[0].length) edits.push({ at: t.end, cut: 0, put: ' ' });
    else inLiteral(t, m.index);
  }
  return edits;
}

/** `text` with `edits` made (positions in `text`; none overlap), in one pass. */
function applyEdits(text: string, edits: Edit[]): string {
  const sorted = [...edits].sort((a, b) => a.at - b.at);
  const out: string[] = [];
  let from = 0;
  for (const e of sorted) {
    out.push(text.slice(from, e.at), e.put);
    from = e.at + e.cut;
  }
  out.push(text.slice(from));
  return out.join('');
}

/** A name that does not occur in `src` (so it cannot clash with anything the code declares). */
function fresh(src: string, base: string): string {
  let n = base;
  for (let i = 0; src.includes(n); i++) n = `${base}${i}`;
  return n;
}

/**
 * How the rewritten body ends: `call` (a unit) calls the default export with `unit` once the
 * body has run; `return` (a gateway handler, src/gateway/handler-guest.ts) returns it, and then
 * the default export may be an async function (it is called per request, not at load).
 */
export type DefaultExportMode = 'call' | 'return';

/** The script body (for the guest's `function (unit)` wrapper) of an ES-module unit. */
export function moduleToScript(src: string, mode: DefaultExportMode = 'call'): string {
  let program: Program;
  const tokens: Token[] = [];
  const comments: [number, number][] = [];
  try {
    program = parse(src, {
      ecmaVersion: 'latest',
      sourceType: 'module',
      onComment: (_block, _text, start, end) => comments.push([start, end]),
      onToken: tokens,
    });
  } catch (e) {
    const pos = (e as { pos?: unknown }).pos;
    // acorn's message, less its position, each long word of it (source text, maybe) cut short.
    const msg = (e as Error).message
      .replace(/\s*\(\d+:\d+\)$/, '')
      .replace(/\S{17,}/g, (w) => `${w.slice(0, 16)}…`)
      .slice(0, 120);
    return refuse('syntax', src, typeof pos === 'number' ? pos : 0, `a syntax error: ${msg}`);
  }
  const tagged: [number, number][] = [];
  check(src, program, tagged, mode === 'return');
  // Comments blanked (line breaks kept): the same offsets, the same meaning.
  const blanked = comments.map(([at, end]) => ({
    at,
    cut: end - at,
    put: src.slice(at, end).replace(/[^\n\r\u2028\u2029]/g, ' '),
  }));
  const text = applyEdits(src, blanked);
  const edits = evasions(src, text, tokens, tagged);
  const unitName = fresh(src, '$unit');
  const def = fresh(src, '$default');
  const isFn = `if (typeof ${def} !== 'function') throw TypeError('the default export is not a function');`;
  let call = mode === 'return' ? ` ${isFn} return ${def};` : '';
  for (const n of program.body as unknown as AnyNode[]) {
    if (n.type !== 'ExportDefaultDeclaration') continue;
    const d = n.declaration as AnyNode;
    const id = d.type === 'FunctionDeclaration' ? (d.id as AnyNode | null) : null;
    edits.push({ at: n.start, cut: d.start - n.start, put: id === null ? `${def} = ` : '' });
    edits.push({ at: d.end, cut: 0, put: id === null ? ';' : `;${def} = ${String(id.name)};` });
    if (mode === 'call') call = ` ${isFn} ${def}(${unitName});`;
  }
  const body = applyEdits(text, edits);
  // Belt and braces: what SES's evaluator would refuse is refused here, with a clear error.
  if (body.search(IMPORT) !== -1 || body.search(HTML_OPEN) !== -1 || body.search(HTML_CLOSE) !== -1)
    refuse('literal', src, 0);
  return `'use strict'; const ${unitName} = unit; let ${def}; {${body}\n}${call}`;
}
