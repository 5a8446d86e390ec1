// The source of each Lua script: lua/<name>.lua with the definitions of lua/_prelude.lua it uses in front.
import fs from 'node:fs';
import path from 'node:path';
import { ORDER_ALPHABET } from '../domain/order-number';
import { SCRIPT_BINDINGS, type ScriptName } from './script-bindings';

/** The lua/ folder, found upwards from this file (src/redis in tests, dist/src/redis when built). */
export function luaDir(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'lua');
    if (fs.existsSync(path.join(candidate, '_prelude.lua'))) return candidate;
    if (path.dirname(dir) === dir) throw new Error('lua/ folder not found');
  }
}

/** A top-level definition of lua/_prelude.lua: its name, its text (with the comment above it). */
interface PreludeBlock {
  name: string;
  text: string;
}

/** Cuts the prelude into its top-level `local` definitions, each with the comment lines right above it. */
export function preludeBlocks(prelude: string): PreludeBlock[] {
  const blocks: PreludeBlock[] = [];
  let pending: string[] = []; // lines since the last block started: comments above the next one, or its body
  let current: PreludeBlock | undefined;
  for (const line of prelude.split('\n')) {
    const start = /^local (?:function )?([A-Za-z_]\w*)/.exec(line);
    if (start) {
      // the comment lines right above this definition belong to it, not to the one before
      let cut = pending.length;
      while (cut > 0 && /^--/.test(pending[cut - 1] as string)) cut--;
      if (current) current.text += pending.slice(0, cut).join('\n');
      current = { name: start[1] as string, text: `${pending.slice(cut).join('\n')}${cut < pending.length ? '\n' : ''}${line}\n` };
      blocks.push(current);
      pending = [];
    } else {
      pending.push(line);
    }
  }
  if (current) current.text += pending.join('\n');
  return blocks;
}

/**
 * The prelude's definitions a script uses, directly or through each other, in prelude order. A script pays for
 * every definition in front of it on every call (Redis runs the whole chunk each time), so it gets only these.
 */
export function preludeFor(blocks: readonly PreludeBlock[], script: string): string {
  const uses = (text: string, name: string) => new RegExp(`\\b${name}\\b`).test(text.replace(/--[^\n]*/g, ''));
  const needed = new Set<string>();
  const visit = (text: string) => {
    for (const b of blocks) {
      if (!needed.has(b.name) && uses(text, b.name)) {
        needed.add(b.name);
        visit(b.text);
      }
    }
  };
  visit(script);
  return blocks
    .filter((b) => needed.has(b.name))
    .map((b) => b.text)
    .join('\n');
}

/** Constants a script shares with TypeScript: written once there, put in front of each script that names them. */
const SHARED_CONSTANTS: Record<string, string> = { ORDER_ALPHABET };

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
    const blocks = preludeBlocks(fs.readFileSync(path.join(dir, '_prelude.lua'), 'utf8'));
    sources = new Map(
      (Object.keys(SCRIPT_BINDINGS) as ScriptName[]).map((name) => {
        const script = fs.readFileSync(path.join(dir, `${name}.lua`), 'utf8');
        // `#!lua` without flags: Redis 7 treats the script as one that writes, so a replica (a demoted primary) refuses
        // every script, reads included, with READONLY instead of answering from what may be stale data
        return [name, `#!lua\n${sharedConstantsFor(script)}${preludeFor(blocks, script)}\n${script}`];
      }),
    );
  }
  return sources;
}

/** The source Redis runs for a script: a `#!lua` line, the prelude definitions it uses, then the script. */
export function scriptSource(name: ScriptName): string {
  return scriptSources().get(name) as string;
}
