// An idle order writer's Redis work does not grow with the performances ever created: 10 and 1,000 performances
// that each sold once, every sale persisted, then the Redis commands the writer sends per second over two sweeps
// (test/support/writer-idle-cost.ts, on a redis-server of its own). Commands, not time: the count is nearly
// deterministic. Before the active-outboxes set the writer read, claimed and reconciled every performance: about 9
// commands/s with 10 and 400 with 1,000.
import { measureIdleWriter } from './support/writer-idle-cost';

test('the idle writer sends as many Redis commands per second with 1,000 performances as with 10 (within 10%)', async () => {
  const few = await measureIdleWriter(10);
  const many = await measureIdleWriter(1000);
  process.stdout.write(
    `idle order writer, Redis commands/s (µs of Redis time/s): 10 performances ${few.commandsPerSecond.toFixed(2)} ` +
      `(${few.redisMicrosPerSecond.toFixed(0)}), 1,000 performances ${many.commandsPerSecond.toFixed(2)} ` +
      `(${many.redisMicrosPerSecond.toFixed(0)}); by command with 1,000: ${JSON.stringify(many.byCommand)}\n`,
  );
  expect(few.baselineCommands).toBe(0); // nothing else talks to this Redis
  expect(few.commandsPerSecond).toBeGreaterThan(0);
  expect(many.commandsPerSecond / few.commandsPerSecond).toBeLessThanOrEqual(1.1);
  // what it sends touches no per-performance key beyond the sweep's scan batch (10 per sweep) and the active ones
  for (const perSweep of ['xlen', 'hmget']) expect(many.byCommand[perSweep] ?? 0).toBeLessThanOrEqual(2 * 10);
  expect(many.byCommand.xreadgroup ?? 0).toBe(0);
  expect(many.byCommand.xautoclaim ?? 0).toBe(0);
}, 240_000);
