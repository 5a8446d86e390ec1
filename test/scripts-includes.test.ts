// Each script pulls in the helpers it uses through `--- @include` lines (lua/includes/*.lua, put in place by
// src/redis/scripts.ts): every name it calls or reads, its includes put in, is defined before use; and every file,
// script or include, includes exactly the files whose helpers its own code uses, so a script pulls in no include it
// does not use, directly or through another. The resolver puts each include in once, dependencies first, and refuses
// a cycle or a missing file. Pure: reads lua/.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ORDER_ALPHABET } from '../src/domain/order-number';
import { SCRIPT_BINDINGS, type ScriptName } from '../src/redis/script-bindings';
import { expandIncludes, includesOf, luaDir, scriptSource } from '../src/redis/scripts';

const KEYWORDS = new Set(
  'and break do else elseif end false for function goto if in local nil not or repeat return then true until while'.split(' '),
);
/** The globals Redis gives a script (Lua 5.1 base library, string/table/math, redis, KEYS, ARGV, cjson...). */
const GLOBALS = new Set(
  [
    'redis KEYS ARGV cjson cmsgpack bit struct string table math os',
    'tonumber tostring unpack ipairs pairs select type error pcall xpcall assert next rawget rawset rawequal',
    'setmetatable getmetatable',
  ]
    .join(' ')
    .split(' '),
);

/** Lua source with comments, a first `#!` line and the insides of strings blanked (same length, newlines kept). */
function codeOnly(source: string): string {
  const out = source.split('');
  const blank = (from: number, to: number) => {
    for (let i = from; i < to; i++) if (out[i] !== '\n') out[i] = ' ';
  };
  if (source.startsWith('#!')) blank(0, source.indexOf('\n'));
  const longBracket = (at: number) => /^\[(=*)\[/.exec(source.slice(at, at + 64));
  const longEnd = (from: number, level: string) => {
    const end = source.indexOf(`]${level}]`, from);
    return end < 0 ? source.length : end + level.length + 2;
  };
  for (let i = 0; i < source.length; ) {
    const c = source[i];
    if (source.startsWith('--', i)) {
      const long = longBracket(i + 2);
      const end = long ? longEnd(i + 2 + long[0].length, long[1] as string) : (source.indexOf('\n', i) + 1 || source.length);
      blank(i, end);
      i = end;
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < source.length && source[j] !== c && source[j] !== '\n') j += source[j] === '\\' ? 2 : 1;
      blank(i + 1, j);
      i = j + 1;
    } else if (c === '[' && longBracket(i)) {
      const long = longBracket(i) as RegExpExecArray;
      const end = longEnd(i + long[0].length, long[1] as string);
      blank(i + long[0].length, end - long[0].length);
      i = end;
    } else {
      i++;
    }
  }
  return out.join('');
}

interface Name {
  name: string;
  at: number;
}

/**
 * The variable names of Lua code (codeOnly's output): the names it declares (local, function parameters, for
 * variables) and the names it uses, each with its position; field names (a.b, a:b(), {b = ...}) are neither.
 */
function namesOf(code: string): { declared: Name[]; used: Name[] } {
  const tokens = [...code.matchAll(/0[xX][0-9a-fA-F]+|\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+|[A-Za-z_]\w*|\.\.\.?|==|~=|<=|>=|\S/g)].map(
    (m) => ({ text: m[0], at: m.index as number }),
  );
  const isName = (t: { text: string } | undefined) => !!t && /^[A-Za-z_]/.test(t.text) && !KEYWORDS.has(t.text);
  const declared: Name[] = [];
  const used: Name[] = [];
  const brackets: string[] = [];
  let declaring: 'list' | 'params' | undefined;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as { text: string; at: number };
    const prev = tokens[i - 1]?.text;
    const next = tokens[i + 1]?.text;
    if ('([{'.includes(t.text)) brackets.push(t.text);
    if (')]}'.includes(t.text)) brackets.pop();
    if (t.text === 'local' || t.text === 'for') {
      declaring = 'list';
      continue;
    }
    if (t.text === 'function') {
      // `local function f`: f is declared (by the `local` before); `function (a, b)`: its parameters are
      declaring = undefined;
      if (prev === 'local' && isName(tokens[i + 1])) {
        const n = tokens[++i] as { text: string; at: number };
        declared.push({ name: n.text, at: n.at });
      }
      while (i + 1 < tokens.length && tokens[i + 1]?.text !== '(') i++;
      declaring = 'params';
      continue;
    }
    if (declaring === 'list' && !isName(t) && t.text !== ',') declaring = undefined;
    if (declaring === 'params' && t.text === ')') declaring = undefined;
    if (!isName(t)) continue;
    if (declaring) {
      declared.push({ name: t.text, at: t.at });
      continue;
    }
    if (prev === '.' || prev === ':') continue; // a field: a.b, a:b()
    if (brackets.at(-1) === '{' && next === '=' && (prev === '{' || prev === ',' || prev === ';')) continue; // {b = ...}
    used.push({ name: t.text, at: t.at });
  }
  return { declared, used };
}

/** The names Lua code uses that are neither Redis's globals nor declared before the use. */
function undefinedNames(source: string): string[] {
  const { declared, used } = namesOf(codeOnly(source));
  const missing = used.filter((u) => !GLOBALS.has(u.name) && !declared.some((d) => d.name === u.name && d.at < u.at));
  return [...new Set(missing.map((u) => u.name))];
}

const dir = luaDir();
const scripts = Object.keys(SCRIPT_BINDINGS) as ScriptName[];
const includeDir = path.join(dir, 'includes');
const includeFiles = fs.readdirSync(includeDir).filter((f) => f.endsWith('.lua')).map((f) => path.join(includeDir, f));
const read = (file: string) => fs.readFileSync(file, 'utf8');
const rel = (file: string) => path.relative(dir, file);

/** The top-level definitions of an include file: `local function name` and `local NAME = ...`. */
const definitionsOf = (file: string) => [...read(file).matchAll(/^local (?:function )?([A-Za-z_]\w*)/gm)].map((m) => m[1] as string);

/** Which include defines each helper. */
const definedBy = new Map<string, string>();
for (const file of includeFiles) {
  for (const name of definitionsOf(file)) {
    if (definedBy.has(name)) throw new Error(`${name} is defined by ${rel(definedBy.get(name) as string)} and ${rel(file)}`);
    definedBy.set(name, file);
  }
}

/** The includes a file's own code (text) uses a helper of, and those it includes: both should be the same. */
function includeUse(file: string, text = read(file)): { needed: string[]; declared: string[] } {
  const needed = new Set<string>();
  for (const { name } of namesOf(codeOnly(text)).used) {
    const by = definedBy.get(name);
    if (by && by !== file) needed.add(rel(by));
  }
  return { needed: [...needed].sort(), declared: includesOf(text, file, dir).map(rel).sort() };
}

test('the name checks find an undefined name, a name used before its definition, and skip fields and strings (negative control)', () => {
  expect(undefinedNames('local function f(a) return a + g(a) end\nreturn f(1)')).toEqual(['g']);
  expect(undefinedNames('local x = f()\nlocal function f() return 1 end\nreturn x')).toEqual(['f']);
  expect(undefinedNames("local t = {a = 1, b = string.len('c(d)')} -- e(f)\nfor k, v in pairs(t) do t.g = v .. k end\nreturn t:h()")).toEqual([]);
  expect(undefinedNames('return ORD_SPAN * 2')).toEqual(['ORD_SPAN']);
  expect(undefinedNames('local a = [[x(y)]] .. --[[ z() ]] "w()"\nreturn a .. b')).toEqual(['b']);
});

test.each(scripts)('%s: every name it calls or reads is a Redis global or defined before use (its includes put in)', (name) => {
  const source = scriptSource(name);
  expect(source.startsWith('#!lua\n')).toBe(true);
  expect(source).not.toMatch(/@include/);
  expect(undefinedNames(source)).toEqual([]);
  // each include is put in once: no helper defined twice
  const defs = [...source.matchAll(/^local function ([A-Za-z_]\w*)/gm)].map((m) => m[1]);
  expect(defs.length).toBe(new Set(defs).size);
});

test.each([...scripts.map((s) => path.join(dir, `${s}.lua`)), ...includeFiles].map((f) => [rel(f), f]))(
  '%s includes exactly the files whose helpers its own code uses',
  (_, file) => {
    const { needed, declared } = includeUse(file);
    expect(declared).toEqual(needed);
  },
);

test.each(includeFiles.map((f) => [rel(f), f]))('%s only defines helpers: no statement of its own runs in a script', (_, file) => {
  const topLevel = codeOnly(read(file))
    .split('\n')
    .filter((line) => /^\S/.test(line));
  for (const line of topLevel) expect(line).toMatch(/^(local [A-Za-z_]\w*( =|\()|local function |end\s*$)/);
  expect(definitionsOf(file).length).toBeGreaterThan(0);
});

test('every include file is pulled in by some script; the small scripts carry none of the index code', () => {
  const pulled = new Set<string>();
  const visit = (file: string) => {
    for (const inc of includesOf(read(file), file, dir)) {
      if (!pulled.has(inc)) {
        pulled.add(inc);
        visit(inc);
      }
    }
  };
  for (const s of scripts) visit(path.join(dir, `${s}.lua`));
  expect([...pulled].map(rel).sort()).toEqual(includeFiles.map(rel).sort());
  expect(scriptSource('idempotency_claim')).not.toContain('pick_best');
  expect(scriptSource('read_ticket')).not.toContain('avail_add_many');
  expect(scriptSource('raise_counter')).not.toContain('local function');
});

test('the checks find an include line missing and one too many (negative control)', () => {
  const file = path.join(dir, 'release.lua');
  const text = read(file);
  expect(text).toContain('--- @include "includes/tx_load"\n');
  const without = text.replace('--- @include "includes/tx_load"\n', '');
  expect(includeUse(file, without).needed).toContain('includes/tx_load.lua');
  expect(includeUse(file, without).declared).not.toContain('includes/tx_load.lua');
  expect(undefinedNames(expandIncludes(without, file, dir))).toContain('load_tx');
  expect(undefinedNames(expandIncludes(text, file, dir))).not.toContain('load_tx');
  const extra = text.replace('--- @include "includes/tx_load"\n', '--- @include "includes/tx_load"\n--- @include "includes/pick_best"\n');
  expect(includeUse(file, extra).declared).toContain('includes/pick_best.lua');
  expect(includeUse(file, extra).needed).not.toContain('includes/pick_best.lua');
  // an include put in after the helper that uses it: a use before the definition
  const avail = read(path.join(includeDir, 'avail_add.lua'));
  expect(undefinedNames(`${avail}\n${read(path.join(includeDir, 'avail.lua'))}`)).toContain('group_by_chunk');
});

describe('the resolver', () => {
  let tmp: string;
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tixlock-includes-'));
    fs.mkdirSync(path.join(tmp, 'includes'));
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const write = (name: string, text: string) => fs.writeFileSync(path.join(tmp, name), text);
  const expand = (text: string) => expandIncludes(text, path.join(tmp, 'script.lua'));

  test('puts each include in once, where it is first included, its own includes before it', () => {
    write('includes/d.lua', '-- d\nlocal function d() return 1 end\n');
    write('includes/b.lua', '--- @include "d"\nlocal function b() return d() end\n');
    write('includes/c.lua', '--- @include "d"\n--- @include "b"\nlocal function c() return b() + d() end\n');
    const got = expand('-- script\n--- @include "includes/b"\n--- @include "includes/c.lua"\nreturn c()\n');
    expect(got).toBe(
      '-- script\n-- d\nlocal function d() return 1 end\nlocal function b() return d() end\nlocal function c() return b() + d() end\nreturn c()\n',
    );
    expect(undefinedNames(got)).toEqual([]);
  });

  test('a cycle is an error naming the files', () => {
    write('includes/a.lua', '--- @include "b"\nlocal function a() end\n');
    write('includes/b.lua', '--- @include "a"\nlocal function b() end\n');
    expect(() => expand('--- @include "includes/a"\nreturn 1\n')).toThrow('include cycle: script.lua -> includes/a.lua -> includes/b.lua -> includes/a.lua');
    write('includes/self.lua', '--- @include "self"\n');
    expect(() => expand('--- @include "includes/self"\n')).toThrow('include cycle: script.lua -> includes/self.lua -> includes/self.lua');
  });

  test('a missing include is an error naming it and the file that includes it', () => {
    write('includes/a.lua', '--- @include "nope"\nlocal function a() end\n');
    expect(() => expand('--- @include "includes/a"\nreturn 1\n')).toThrow('include not found: includes/nope.lua (included by includes/a.lua)');
    expect(() => expand('--- @include "includes/gone"\n')).toThrow('include not found: includes/gone.lua (included by script.lua)');
  });

  test('a malformed include line, a file included twice, or one outside the folder is an error', () => {
    write('includes/a.lua', 'local function a() end\n');
    expect(() => expand('-- @include "includes/a"\n')).toThrow('script.lua:1: an include is written --- @include "<path>"');
    expect(() => expand("--- @include 'includes/a'\n")).toThrow('an include is written');
    expect(() => expand('--- @include "includes/a"\n--- @include "includes/a.lua"\n')).toThrow('script.lua:2: includes/a.lua is included twice');
    expect(() => expand('--- @include "../elsewhere"\n')).toThrow('include outside');
  });
});

test('the order-number alphabet is written once (src/domain/order-number.ts) and put in front of the script that uses it', () => {
  expect(scriptSource('complete')).toMatch(new RegExp(`^#!lua\\nlocal ORDER_ALPHABET = "${ORDER_ALPHABET}"\\n`));
  expect(scriptSource('hold')).not.toContain('ORDER_ALPHABET');
  const files = fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.lua'));
  expect(files).toEqual(expect.arrayContaining(['complete.lua', path.join('includes', 'avail.lua')]));
  for (const file of files) expect(read(path.join(dir, file))).not.toContain(ORDER_ALPHABET);
});
