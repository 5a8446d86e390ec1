// loadChunks (src/domain/inventory.ts): a PUT is loaded in script calls of about 2,000 tickets, cut only where seat
// order has a gap (each call leaves a gap of ords after its tickets), never between two neighbours of a row.
import { loadChunks } from '../src/domain/inventory';

/** Rows of `seats` neighbours each: relative ords 0,1,..,seats-1, then a gap of 2 before the next row. */
function rows(count: number, seats: number) {
  const out: { relativeOrd: number }[] = [];
  let ord = 0;
  for (let r = 0; r < count; r++) {
    for (let s = 0; s < seats; s++) out.push({ relativeOrd: ord++ });
    ord++; // the next row is not adjacent
  }
  return out;
}

const cutsBetweenNeighbours = (chunks: { relativeOrd: number }[][]) =>
  chunks.slice(1).filter((c, i) => (c[0]?.relativeOrd ?? 0) - ((chunks[i] as { relativeOrd: number }[]).at(-1)?.relativeOrd ?? 0) === 1).length;

test('cuts fall between rows, and every ticket is loaded once in order', () => {
  const tickets = rows(150, 30); // 4,500 tickets; 2,000 is not a multiple of 30
  const chunks = loadChunks(tickets);
  expect(chunks.flat()).toEqual(tickets);
  expect(cutsBetweenNeighbours(chunks)).toBe(0);
  for (const c of chunks) expect(c.length).toBeLessThanOrEqual(4000);
  expect(chunks.length).toBe(3);
});

test('a row longer than a chunk stays whole up to twice the chunk size', () => {
  expect(loadChunks(rows(1, 2002)).map((c) => c.length)).toEqual([2002]);
  // one 5,000-seat row must be cut somewhere: at most 4,000 per call
  expect(loadChunks(rows(1, 5000)).map((c) => c.length)).toEqual([4000, 1000]);
});

test('small loads are one call; nothing in, nothing out', () => {
  expect(loadChunks(rows(3, 10))).toHaveLength(1);
  expect(loadChunks([])).toEqual([]);
});
