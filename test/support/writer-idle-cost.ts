// The idle writer's Redis commands per second by performances created: measured in tools/bench/idle-writer.ts (the
// benchmark reports it too), used here by test/writer-idle-cost.test.ts.
export { measureIdleWriter, type IdleCost } from '../../tools/bench/idle-writer';
