// Preloaded into a CLI child (spawnCli's preload): when the process exits, it writes the file of every module it
// loaded (the keys of require.cache) as a JSON list to LOADED_MODULES_FILE.
import fs from 'node:fs';

const file = process.env.LOADED_MODULES_FILE;
if (file) process.on('exit', () => fs.writeFileSync(file, JSON.stringify(Object.keys(require.cache))));
