// `npm run openapi` runs this file: it writes openapi.json at the repository root from the code. The committed file
// is what integrators read without running the service; test/openapi.test.ts fails while it differs from the code.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { openApiDocument } from './openapi';

/** openapi.json at the repository root (this file runs from src/http, never from dist). */
export const OPENAPI_FILE = path.resolve(__dirname, '..', '..', 'openapi.json');

/** The file's text: the document, pretty-printed for reading and diffs. */
export const openApiText = (): string => `${JSON.stringify(openApiDocument(), null, 2)}\n`;

if (require.main === module) {
  writeFileSync(OPENAPI_FILE, openApiText());
  process.stdout.write(`wrote ${OPENAPI_FILE}\n`);
}
