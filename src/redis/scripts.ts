// Loads lua/*.lua (each with lua/_prelude.lua in front) as ioredis commands: EVALSHA, re-sent as EVAL on NOSCRIPT.
import fs from 'node:fs';
import path from 'node:path';
import type { Redis, ChainableCommander } from 'ioredis';

/** Script name -> number of KEYS it takes. */
export const SCRIPTS = {
  load_inventory: 5,
  restore_inventory: 6,
  raise_counter: 1,
  performance_info: 5,
  search: 5,
  list_tickets: 6,
  read_ticket: 5,
  hold: 8,
  hold_best: 8,
  extend: 8,
  complete: 8,
  release: 8,
  read_transaction: 8,
  idempotency_claim: 1,
} as const;

export type ScriptName = keyof typeof SCRIPTS;
export type ScriptArg = string | number;
export type ScriptReply = (string | number | null | ScriptReply[])[];

/** The lua/ folder, found upwards from this file (src/redis in tests, dist/src/redis when built). */
export function luaDir(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'lua');
    if (fs.existsSync(path.join(candidate, '_prelude.lua'))) return candidate;
    if (path.dirname(dir) === dir) throw new Error('lua/ folder not found');
  }
}

let sources: Map<ScriptName, string> | undefined;
function scriptSources(): Map<ScriptName, string> {
  if (!sources) {
    const dir = luaDir();
    const prelude = fs.readFileSync(path.join(dir, '_prelude.lua'), 'utf8');
    sources = new Map(
      (Object.keys(SCRIPTS) as ScriptName[]).map((name) => [
        name,
        `${prelude}\n${fs.readFileSync(path.join(dir, `${name}.lua`), 'utf8')}`,
      ]),
    );
  }
  return sources;
}

const commandName = (name: ScriptName) => `tix_${name}`;

export function defineScripts(redis: Redis): void {
  for (const [name, lua] of scriptSources()) {
    redis.defineCommand(commandName(name), { lua, numberOfKeys: SCRIPTS[name] });
  }
}

type ScriptFn = (...args: ScriptArg[]) => Promise<ScriptReply>;

/** Runs a defined script on a client or adds it to a pipeline. */
export function runScript(target: Redis, name: ScriptName, keys: readonly string[], args: readonly ScriptArg[]): Promise<ScriptReply>;
export function runScript(target: ChainableCommander, name: ScriptName, keys: readonly string[], args: readonly ScriptArg[]): ChainableCommander;
export function runScript(
  target: Redis | ChainableCommander,
  name: ScriptName,
  keys: readonly string[],
  args: readonly ScriptArg[],
): Promise<ScriptReply> | ChainableCommander {
  if (keys.length !== SCRIPTS[name]) throw new Error(`script ${name} takes ${SCRIPTS[name]} keys, got ${keys.length}`);
  const fn = (target as unknown as Record<string, ScriptFn>)[commandName(name)];
  if (!fn) throw new Error(`script ${name} is not defined on this connection`);
  return fn.call(target, ...keys, ...args) as Promise<ScriptReply>;
}
