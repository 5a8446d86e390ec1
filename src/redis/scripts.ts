// The source of each Lua script: lua/<name>.lua with the helpers it includes (lua/includes/*.lua) put in place.
import fs from 'node:fs';
import path from 'node:path';
import { ORDER_ALPHABET } from '../domain/order-number';
import { AVAILABLE_CHUNK, ORD_SPAN, outboxGroup } from './keys';
import { SCRIPT_BINDINGS, type ScriptName } from './script-bindings';

/** The lua/ folder, found upwards from this file (src/redis in tests, dist/src/redis when built). */
export function luaDir(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'lua');
    if (fs.existsSync(path.join(candidate, 'includes'))) return candidate;
    if (path.dirname(dir) === dir) throw new Error('lua/ folder not found');
  }
}

/** `--- @include "<path>"`: the path relative to the including file's folder, `.lua` implied (as BullMQ's). */
const INCLUDE = /^--- @include "([^"]+)"[ \t]*$/;
/** A comment line that means to be an include, well-formed or not. */
const INCLUDE_LIKE = /^--+\s*@include\b/;

/**
 * The files a Lua file includes directly, as absolute paths, in the order of its `--- @include` lines. A line that
 * looks like an include but is not written `--- @include "<path>"`, a file included twice, or one outside root is an
 * error naming the file.
 */
export function includesOf(source: string, file: string, root: string): string[] {
  const out: string[] = [];
  const where = (line: number) => `${path.relative(root, file) || file}:${line}`;
  source.split('\n').forEach((line, i) => {
    if (!INCLUDE_LIKE.test(line)) return;
    const m = INCLUDE.exec(line);
    if (!m) throw new Error(`${where(i + 1)}: an include is written --- @include "<path>": ${line}`);
    const name = m[1] as string;
    const target = path.resolve(path.dirname(file), name.endsWith('.lua') ? name : `${name}.lua`);
    const rel = path.relative(root, target);
    if (rel.startsWith('..') || path.isAbsolute(rel)) throw new Error(`${where(i + 1)}: include outside ${root}: ${name}`);
    if (out.includes(target)) throw new Error(`${where(i + 1)}: ${rel} is included twice`);
    out.push(target);
  });
  return out;
}

/**
 * A Lua file's source (file: its path, for relative includes and messages) with each `--- @include` line replaced
 * by the included file, whose own includes are put in the same way: every file once, each before the first file
 * that includes it (an include already put in earlier leaves only its line out). A missing file or a cycle is an
 * error naming the file. Includes must lie under root (the top file's folder unless given).
 */
export function expandIncludes(source: string, file: string, root: string = path.dirname(file)): string {
  const rel = (f: string) => path.relative(root, f) || f;
  const done = new Set<string>();
  const expand = (text: string, at: string, stack: readonly string[]): string => {
    const targets = includesOf(text, at, root);
    let next = 0;
    const out: string[] = [];
    for (const line of text.split('\n')) {
      if (!INCLUDE_LIKE.test(line)) {
        out.push(line);
        continue;
      }
      const target = targets[next++] as string;
      if (done.has(target)) continue;
      if (stack.includes(target)) throw new Error(`include cycle: ${[...stack, target].map(rel).join(' -> ')}`);
      let included: string;
      try {
        included = fs.readFileSync(target, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        throw new Error(`include not found: ${rel(target)} (included by ${rel(at)})`);
      }
      const body = expand(included, target, [...stack, target]).replace(/\n$/, '');
      done.add(target);
      out.push(body);
    }
    return out.join('\n');
  };
  return expand(source, file, [file]);
}

/** Constants a script shares with TypeScript: written once there, put in front of each script that names them. */
const SHARED_CONSTANTS: Record<string, string | number> = { ORDER_ALPHABET, CHUNK: AVAILABLE_CHUNK, ORD_SPAN, OUTBOX_GROUP: outboxGroup };

function sharedConstantsFor(script: string): string {
  const code = script.replace(/--[^\n]*/g, '');
  return Object.entries(SHARED_CONSTANTS)
    .filter(([name]) => new RegExp(`\\b${name}\\b`).test(code))
    .map(([name, value]) => `local ${name} = ${JSON.stringify(value)}\n`)
    .join('');
}

let sources: Map<ScriptName, string> | undefined;
function scriptSources(): Map<ScriptName, string> {
  if (!sources) {
    const dir = luaDir();
    sources = new Map(
      (Object.keys(SCRIPT_BINDINGS) as ScriptName[]).map((name) => {
        const file = path.join(dir, `${name}.lua`);
        const script = expandIncludes(fs.readFileSync(file, 'utf8'), file, dir);
        // `#!lua` without flags: Redis 7 treats the script as one that writes, so a replica (a demoted primary) refuses
        // every script, reads included, with READONLY instead of answering from what may be stale data
        return [name, `#!lua\n${sharedConstantsFor(script)}${script}`];
      }),
    );
  }
  return sources;
}

/** The source Redis runs for a script: a `#!lua` line, the shared constants it names, then the script, includes put in. */
export function scriptSource(name: ScriptName): string {
  return scriptSources().get(name) as string;
}
