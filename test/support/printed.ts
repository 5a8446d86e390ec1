// Everything this process prints while a test watches: console.* (silenced) and raw writes to process.stdout and
// process.stderr (passed through, since jest's own reporter may write there when running in band). An in-process
// service can print through either (winston's Console transport, a banner, a library's warning).
import { jest } from '@jest/globals';

export interface PrintedCapture {
  /** every line printed so far, console calls joined as console would join them */
  lines(): string[];
  /** puts console and the streams back; lines() still answers what was printed before */
  restore(): void;
}

const CONSOLE_METHODS = ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const;

export function capturePrinted(): PrintedCapture {
  const lines: string[] = [];
  const consoleSpies = CONSOLE_METHODS.map((m) =>
    jest.spyOn(console, m).mockImplementation((...args: unknown[]) => {
      lines.push(args.map(String).join(' '));
    }),
  );
  const streamSpies = [process.stdout, process.stderr].map((stream) => {
    const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
    return jest.spyOn(stream, 'write').mockImplementation(((chunk: unknown, ...rest: unknown[]) => {
      lines.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
      return write(chunk, ...rest);
    }) as typeof stream.write);
  });
  return {
    lines: () => [...lines],
    // mockRestore() also empties a spy's mock.calls (jest 30): the lines are our own copy, kept
    restore: () => {
      for (const spy of [...consoleSpies, ...streamSpies]) spy.mockRestore();
    },
  };
}
