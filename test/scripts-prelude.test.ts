// Each script gets only the prelude definitions it uses (src/redis/scripts.ts): pure functions, no Redis.
import fs from 'node:fs';
import path from 'node:path';
import { ORDER_ALPHABET } from '../src/domain/order-number';
import { SCRIPT_BINDINGS, type ScriptName } from '../src/redis/script-bindings';
import { luaDir, preludeBlocks, preludeFor, scriptSource } from '../src/redis/scripts';

const prelude = `-- header of the file, not of a definition

local A = 1 -- a constant

-- b: uses A
local function b()
  return A
end

-- c: uses b
-- (two comment lines)
local function c()
  return b() + 1
end

-- d: unused by the script below
local function d() return 4 end
`;

test('blocks: one per top-level definition, each with the comment right above it', () => {
  const blocks = preludeBlocks(prelude);
  expect(blocks.map((x) => x.name)).toEqual(['A', 'b', 'c', 'd']);
  expect(blocks[1]?.text).toMatch(/^-- b: uses A\nlocal function b\(\)\n {2}return A\nend/);
  expect(blocks[2]?.text).toMatch(/^-- c: uses b\n-- \(two comment lines\)\nlocal function c/);
  expect(blocks.map((x) => x.text).join('')).not.toContain('header of the file');
});

test('a script gets what it uses, directly or through other definitions, in prelude order; nothing else', () => {
  const blocks = preludeBlocks(prelude);
  const got = preludeFor(blocks, 'return c()');
  expect(got.indexOf('local A')).toBeLessThan(got.indexOf('local function b'));
  expect(got.indexOf('local function b')).toBeLessThan(got.indexOf('local function c'));
  expect(got).not.toContain('local function d');
  // a name in a comment of the script does not pull a definition in
  expect(preludeFor(blocks, '-- d() is not called\nreturn 1')).toBe('');
});

test('every script compiles with only its own prelude part: every prelude name it calls is defined before use', () => {
  const dir = luaDir();
  const names = preludeBlocks(fs.readFileSync(path.join(dir, '_prelude.lua'), 'utf8')).map((b) => b.name);
  for (const script of Object.keys(SCRIPT_BINDINGS) as ScriptName[]) {
    const source = scriptSource(script);
    const body = fs.readFileSync(path.join(dir, `${script}.lua`), 'utf8').replace(/--[^\n]*/g, '');
    for (const name of names) {
      if (new RegExp(`\\b${name}\\b`).test(body)) expect(source).toMatch(new RegExp(`^local (function )?${name}\\b`, 'm'));
    }
  }
  // the small scripts carry none of the index code
  expect(scriptSource('idempotency_claim')).not.toContain('pick_best');
  expect(scriptSource('read_ticket')).not.toContain('avail_add_many');
});

test('the order-number alphabet is written once (src/domain/order-number.ts) and put in front of the script that uses it', () => {
  expect(scriptSource('complete')).toContain(`local ORDER_ALPHABET = "${ORDER_ALPHABET}"`);
  expect(scriptSource('hold')).not.toContain('ORDER_ALPHABET');
  for (const file of fs.readdirSync(luaDir())) {
    expect(fs.readFileSync(path.join(luaDir(), file), 'utf8')).not.toContain(ORDER_ALPHABET);
  }
});
