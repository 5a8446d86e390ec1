// The tixlock command's help: the overview (`tixlock --help`) and each command's own (`tixlock <command> --help`,
// `tixlock help <command>`). Each command names the groups and settings it reads; the settings, their order and
// their defaults come from the table of settings (src/config-table.ts).
import { GROUPS, REDIS_TOPOLOGY_SETTINGS, SETTINGS_TABLE, settingsIn, type Group, type SettingName } from './config-table';

interface CommandHelp {
  /** what follows the command name in its usage line */
  args: string;
  /** one line for the overview */
  summary: string;
  /** the command's own help: what it does (a paragraph) */
  about: string;
  options?: [string, string][];
  /**
   * the settings (environment variables) it reads: a group of the table stands for its settings, a list for
   * alternatives (one of them); each setting is shown once, where it first comes
   */
  settings?: readonly (Group | SettingName | readonly SettingName[])[];
}

const WORKERS: [string, string] = [
  '--workers N',
  'N API processes sharing the port (node:cluster), auto = one per core; overrides API_WORKERS',
];
/** How any command reaches Redis (the rest of the redis group is the API's). */
const REDIS = [REDIS_TOPOLOGY_SETTINGS, 'REDIS_SENTINEL_NAME', 'REDIS_USERNAME', 'REDIS_PASSWORD', 'REDIS_TLS', 'REDIS_COMMAND_TIMEOUT_MS'] as const;
const API = ['server', 'keys', ...REDIS, 'redis', 'store', 'domain', 'limits'] as const;
/** Where a maintenance command finds Redis when none is configured. */
const BESIDE =
  'With no Redis configured it uses the private redis-server of the tixlock running on the same DATA_DIR (npm start), ' +
  'found by the URL that tixlock wrote under DATA_DIR/redis.';

export const COMMANDS: Record<string, CommandHelp> = {
  all: {
    args: '[--workers N]',
    summary: 'the API and the order writer in one process (the default command; npm start runs it)',
    about:
      'The API and the order writer in one process. With no Redis configured it starts a private redis-server ' +
      '(AOF under DATA_DIR/redis) and stops it again on SIGTERM or SIGINT. With --workers N > 1: N API processes ' +
      'and one order-writer process under one primary.',
    options: [WORKERS],
    settings: [...API, 'writer', 'logging'],
  },
  api: {
    args: '[--workers N]',
    summary: 'the HTTP API (stateless: run as many as you like)',
    about:
      'The HTTP API. With no Redis configured it starts a private redis-server (AOF under DATA_DIR/redis) and stops ' +
      'it again on SIGTERM or SIGINT. NODE_ENV=production refuses to start without TIXLOCK_API_KEYS / ' +
      'TIXLOCK_ADMIN_KEYS; otherwise dev keys are made once and kept in DATA_DIR/dev-keys.json.',
    options: [WORKERS],
    settings: [...API, 'logging'],
  },
  'order-writer': {
    args: '',
    summary: 'persist completed sales from Redis to the document store',
    about: `Persists completed sales (orders, people, sold tickets) from the Redis outboxes to the document store; run one or more. ${BESIDE}`,
    settings: [...REDIS, 'store', 'writer', 'logging'],
  },
  archive: {
    args: '[perf_id...]',
    summary: 'archive closed or ended performances whose sales are all persisted: their Redis keys removed',
    about:
      'Archives the given performances (every one that is ready, when none is given): once a performance is closed or ' +
      'ended, its last lock lapsed ARCHIVE_LOCK_MARGIN_SECONDS ago and every sale reached the document store, which is ' +
      'checked ticket by ticket and order by order, its Redis keys are removed and the document store answers for it. ' +
      'A mismatch removes nothing and is printed. Prints each performance\'s outcome as JSON; exits 1 when a named ' +
      `performance was not archived, or on any mismatch or failure. It waits for a run of the order writer's automatic archive to end. ${BESIDE}`,
    settings: [...REDIS, 'store', 'PERFORMANCE_END_GRACE_SECONDS', 'ARCHIVE_LOCK_MARGIN_SECONDS'],
  },
  rehydrate: {
    args: '[perf_id...]',
    summary: 'rebuild Redis state (inventory, sold tickets, order numbers) from the document store',
    about: `Rebuilds the Redis state of the given performances (all the store knows, when none is given) from the document store, then prints the result as JSON. ${BESIDE}`,
    settings: [...REDIS, 'store'],
  },
  'dead-letters': {
    args: '[perf_id]',
    summary: 'list sales the order writer gave up on',
    about: `Lists the sales the order writer gave up on (of one performance, or all), as JSON. ${BESIDE}`,
    settings: [...REDIS, 'DATA_DIR'],
  },
  'replay-dead-letters': {
    args: '[perf_id]',
    summary: 'put dead-lettered sales back on their outbox for the writer to try again',
    about: `Puts dead-lettered sales (of one performance, or all) back on their outbox for the order writer to try again; prints what it moved as JSON. ${BESIDE}`,
    settings: [...REDIS, 'DATA_DIR'],
  },
  onsale: {
    args: '[options]',
    summary: 'load harness: simulated buyers against an embedded tixlock (or --url), then the invariant checks',
    about: '', // the tool prints its own help (tools/onsale/options.ts); src/cli.ts runs it with --help
  },
  help: {
    args: '[command]',
    summary: 'this text, or the help of one command',
    about: 'Prints the list of commands, or the help of one command (the same as tixlock <command> --help).',
  },
};

const WIDTH = 110;

/** Words of `text` in lines of at most WIDTH characters, each starting with `indent`. */
function wrap(text: string, indent: string, first = indent): string {
  const lines: string[] = [];
  let line = first;
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line.trim() !== '' && line.length + 1 + word.length > WIDTH) {
      lines.push(line);
      line = indent;
    }
    line += line.trim() === '' ? word : ` ${word}`;
  }
  lines.push(line);
  return lines.join('\n');
}

/** `tixlock --help`. */
export function overview(): string {
  const column = 34;
  const rows = Object.entries(COMMANDS).map(([name, c]) => {
    const left = `  ${name}${c.args ? ` ${c.args}` : ''}`;
    // the summary starts at `column`, after the padding and the one space wrap() puts before a word
    const pad = left.length < column - 1 ? left.padEnd(column - 1) : `${left}\n${' '.repeat(column - 1)}`;
    return wrap(c.summary, ' '.repeat(column), pad);
  });
  return [
    'usage: tixlock <command> [arguments]',
    '  from the repository: npx tixlock <command> (after npm run build, or while npm start runs)',
    '',
    'commands:',
    ...rows,
    '',
    'tixlock <command> --help: what a command does, its options and the settings it reads.',
    'Settings are environment variables (docs/configuration.md); an invalid one stops a command with one line.',
  ].join('\n');
}

/** A setting with its default, as help shows it: `PORT (3000)`; `REDIS_URL` when it has none. */
function withDefault(name: SettingName): string {
  const def = SETTINGS_TABLE[name].value.default;
  return def === undefined ? name : `${name} (${def})`;
}

const isGroup = (item: string): item is Group => Object.hasOwn(GROUPS, item);

/** A command's settings in the order it names them, each once: groups expanded, alternatives joined by |. */
function settingsText(settings: NonNullable<CommandHelp['settings']>): string[] {
  const shown = new Set<SettingName>();
  const out: string[] = [];
  for (const item of settings) {
    const names = typeof item !== 'string' ? item : isGroup(item) ? settingsIn(item) : [item];
    const fresh = names.filter((name) => !shown.has(name));
    fresh.forEach((name) => shown.add(name));
    if (fresh.length > 0) out.push(typeof item === 'string' ? fresh.map(withDefault).join(', ') : fresh.map(withDefault).join(' | '));
  }
  return out;
}

/** `tixlock <command> --help`; undefined for an unknown command. A tool's (onsale) comes from the tool itself. */
export function commandHelp(name: string): string | undefined {
  if (!Object.hasOwn(COMMANDS, name)) return undefined;
  const c = COMMANDS[name] as CommandHelp;
  const out = [`usage: tixlock ${name}${c.args ? ` ${c.args}` : ''}`, '', wrap(c.about, '')];
  if (c.options) {
    out.push('', 'options:', ...c.options.map(([flag, what]) => wrap(what, ' '.repeat(18), `  ${flag.padEnd(16)}`)));
  }
  if (c.settings) out.push('', wrap(`settings (default in brackets): ${settingsText(c.settings).join(', ')}`, '  ', ''));
  return out.join('\n');
}
