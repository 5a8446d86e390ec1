// What runs on this machine, read from /proc (Linux): a process's children, whether it is alive, which processes
// work in a directory (redis-server changes into its --dir), and whether a TCP port still answers.
import fs from 'node:fs';
import net from 'node:net';

/** The live child processes of `pid` (from /proc/<child>/stat's ppid) with their command lines. */
export function childrenOf(pid: number): { pid: number; args: string[] }[] {
  const out: { pid: number; args: string[] }[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(ppid) !== pid || state === 'Z') continue;
      const args = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').filter(Boolean);
      out.push({ pid: Number(entry), args });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** True while `pid` runs (a zombie, exited but not yet reaped, counts as gone). */
export function alive(pid: number): boolean {
  try {
    return !fs.readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
}

/** The live processes whose working directory is `dir` (redis-server works in its --dir). */
export function processesIn(dir: string): number[] {
  if (!fs.existsSync(dir)) return [];
  const real = fs.realpathSync(dir); // /proc/<pid>/cwd is the resolved path
  const out: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readlinkSync(`/proc/${entry}/cwd`) === real && alive(Number(entry))) out.push(Number(entry));
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return out;
}

/** Resolves true when something accepts a TCP connection on 127.0.0.1:port, false when refused. */
export function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(5000, () => done(true)); // accepted by the kernel but silent: still bound
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
