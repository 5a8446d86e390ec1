// `npm run docs:config` runs this file: it rewrites the tables of settings in docs/configuration.md (between the
// markers; the prose around them stays) from the table in src/config-table.ts. test/config.test.ts fails while the
// committed doc differs from what this generates.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { GROUPS, REDIS_TOPOLOGY_INPUTS, SETTING_ENTRIES, type Group, type Setting, type SettingName } from './config-table';

/** docs/configuration.md (this file runs from src, never from dist). */
export const CONFIGURATION_DOC = path.resolve(__dirname, '..', 'docs', 'configuration.md');

const BEGIN = '<!-- settings: generated from src/config-table.ts by `npm run docs:config`; edit them there, not here -->';
const END = '<!-- settings: end -->';

/** A table cell: no line breaks, and a | would end the cell. */
const cell = (text: string) => text.replace(/\s*\n\s*/g, ' ').replace(/\|/g, '\\|');

function defaultCell({ value }: Setting): string {
  if ('derivedDefault' in value) return String(value.derivedDefault);
  return value.default === undefined ? 'unset' : `\`${value.default}\``;
}

/** Where the value is in the configuration: its key in the group; the Redis topology's settings are read as one. */
function keyCell(name: SettingName, { key }: Setting): string {
  return `\`${(REDIS_TOPOLOGY_INPUTS as readonly string[]).includes(name) ? 'topology' : key}\``;
}

/** One section per group (config.<group>): what it is, and a table of its settings in the table's order. */
export function settingsTables(): string {
  return (Object.keys(GROUPS) as Group[])
    .map((group) => {
      const rows = SETTING_ENTRIES.filter(([, s]) => s.group === group).map(
        ([name, s]) => `| \`${name}\` | ${cell(defaultCell(s))} | ${cell(s.value.values)} | ${keyCell(name, s)} | ${cell(s.description)} |`,
      );
      return [
        `### \`config.${group}\``,
        '',
        GROUPS[group],
        '',
        '| variable | default | values | key | meaning |',
        '|---|---|---|---|---|',
        ...rows,
      ].join('\n');
    })
    .join('\n\n');
}

/** `doc` with the text between the markers replaced by the generated tables. */
export function withSettingsTables(doc: string): string {
  const begin = doc.indexOf(BEGIN);
  const end = doc.indexOf(END);
  if (begin < 0 || end < begin) throw new Error(`docs/configuration.md: no ${BEGIN} ... ${END} markers`);
  return `${doc.slice(0, begin)}${BEGIN}\n\n${settingsTables()}\n\n${doc.slice(end)}`;
}

if (require.main === module) {
  writeFileSync(CONFIGURATION_DOC, withSettingsTables(readFileSync(CONFIGURATION_DOC, 'utf8')));
  process.stdout.write(`wrote ${CONFIGURATION_DOC}\n`);
}
