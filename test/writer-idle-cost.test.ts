// An idle order writer's Redis work does not grow with the performances ever created: 10 and 1,000 performances
// that each sold once, every sale persisted, then the Redis commands the writer sends over a window of two whole
// sweeps (tools/bench/idle-writer.ts, on a redis-server of its own). Before the active-outboxes set the writer read,
// claimed and reconciled every performance: about 9 commands/s with 10 and 400 with 1,000.
// Counts, not rates: the sweeps' commands are counted over exactly two sweeps, so they are deterministic; the idle
// discovery loop's ZRANGE (one a round, every 0.5 s) is timed, so on a loaded machine its rate, and with it the
// commands per second, varies with scheduling whatever the number of performances (seen: 6.4/s vs 7.3/s under a
// full test run, 7.3 vs 7.4 alone). The rate ratio is printed; `npm run bench -- --only season` reports it as a target.
import { measureIdleWriter, type IdleCost } from './support/writer-idle-cost';

/** The commands of the window apart from the discovery loop's ZRANGE, one per round. */
const sweepCommands = (cost: IdleCost) =>
  Object.entries(cost.byCommand).reduce((sum, [name, calls]) => sum + (name === 'zrange' ? 0 : calls), 0);

test('the idle writer sends as many Redis commands per sweep with 1,000 performances as with 10', async () => {
  const few = await measureIdleWriter(10);
  const many = await measureIdleWriter(1000);
  process.stdout.write(
    `idle order writer, Redis commands/s (µs of Redis time/s): 10 performances ${few.commandsPerSecond.toFixed(2)} ` +
      `(${few.redisMicrosPerSecond.toFixed(0)}), 1,000 performances ${many.commandsPerSecond.toFixed(2)} ` +
      `(${many.redisMicrosPerSecond.toFixed(0)}); by command with 10: ${JSON.stringify(few.byCommand)}, with 1,000: ` +
      `${JSON.stringify(many.byCommand)}\n`,
  );
  expect(few.baselineCommands).toBe(0); // nothing else talks to this Redis
  expect(sweepCommands(few)).toBeGreaterThan(0);
  expect(sweepCommands(many)).toBeLessThanOrEqual(Math.ceil(1.1 * sweepCommands(few)));
  // the discovery loop reads only the active set: one ZRANGE a round, nothing per performance
  for (const cost of [few, many]) expect((cost.byCommand.zrange ?? 0) * 1000 / cost.windowMs).toBeLessThanOrEqual(2 * 1.1 + 1);
  // what it sends touches no per-performance key beyond the sweep's scan batch (10 per sweep) and the active ones
  for (const perSweep of ['xlen', 'hmget']) expect(many.byCommand[perSweep] ?? 0).toBeLessThanOrEqual(2 * 10);
  // and each sweep checks its whole batch, also when a scan pass ends with an empty call (seen: 10 XLENs, not 20)
  for (const cost of [few, many]) expect(cost.byCommand.xlen).toBe(2 * 10);
  expect(many.byCommand.xreadgroup ?? 0).toBe(0);
  expect(many.byCommand.xautoclaim ?? 0).toBe(0);
}, 240_000);
