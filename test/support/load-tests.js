// The load tests: `npm test` runs them in a step of their own, one file at a time, after every other test file has
// run on parallel workers (jest.config.js, test/support/run-test-steps.js, docs/testing.md), so they never starve
// the timing-sensitive suites of CPU. Paths from the project root.
module.exports = [
  'test/bench.test.ts', // the quick benchmark, every scenario
  'test/bench-season.test.ts', // a season of performances sold, archived and expired
  'test/onsale.test.ts', // 2,000 buyers for 500 tickets
  'test/onsale-cluster.test.ts', // an on-sale on a private 6-node Redis Cluster, a primary killed
  'test/writer-load.test.ts', // 200 concurrent completions through the order writer
  'test/writer-idle-cost.test.ts', // 1,000 performances sold, then the idle writer's commands counted
  'test/memory-model.test.ts', // 10 performances of 10,000 tickets and 2,300 holds, Redis memory measured
  'test/scripts-large.test.ts', // a performance of 100,000 tickets
];
