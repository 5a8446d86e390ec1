// JSON answers end with a newline, errors included: a terminal prompt after `curl` starts on its own line, and
// line-based tools (read, jq -c, log shippers) see one complete line.
import type express from 'express';
import type { Response } from 'express';

/** Makes res.json of this app (only) send its body followed by "\n". */
export function jsonEndsWithNewline(app: express.Express): void {
  app.response.json = function json(this: Response, body: unknown) {
    if (!this.get('Content-Type')) this.type('json');
    return this.send(`${JSON.stringify(body)}\n`);
  };
}
