// A Stryker reporter plugin of the mutation run (stryker.config.mjs, docs/mutation.md): appends each mutant that
// survived or ran no test to reports/mutation/survivors.jsonl as soon as it is known. Stryker's own reports come
// only at the end of a run, which takes tens of minutes per folder here; this lets tests be written meanwhile.
import fs from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { declareClassPlugin, PluginKind } from '@stryker-mutator/api/plugin';

const LOG = path.resolve('reports/mutation/survivors.jsonl');

class SurvivorLog {
  onDryRunCompleted() {
    fs.mkdirSync(path.dirname(LOG), { recursive: true });
    fs.writeFileSync(LOG, '');
  }

  onMutantTested(result) {
    if (result.status !== 'Survived' && result.status !== 'NoCoverage') return;
    const { fileName, location, mutatorName, replacement, status, testsCompleted } = result;
    const line = { status, file: path.relative(process.cwd(), fileName), line: location.start.line, mutatorName, replacement, testsCompleted };
    fs.appendFileSync(LOG, `${JSON.stringify(line)}\n`);
  }
}

export const strykerPlugins = [declareClassPlugin(PluginKind.Reporter, 'survivor-log', SurvivorLog)];
