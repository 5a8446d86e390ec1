// The tools' one venue generator (tools/common/venue.ts): the on-sale harness's graded layout and the benchmark's
// small venue and stadium, each a VenueLayout that venueTickets fills. Pure: no Redis, no HTTP.
import {
  cheapestShare,
  gradedLayout,
  minimumTickets,
  partitionCount,
  SMALL_VENUE,
  STADIUM_CHEAPEST,
  stadiumLayout,
  venueTickets,
  type VenueTicket,
} from '../tools/common/venue';

const levels = (tickets: VenueTicket[]) => new Set(tickets.map((t) => `${t.section} ${t.price_level} ${t.price}`));

test('the on-sale: T tickets over sections, rows and price levels, front rows dearest', () => {
  const tickets = venueTickets('p', 103, gradedLayout({ sections: 2, seatsPerRow: 10, priceLevels: 3 }));
  expect(tickets).toHaveLength(103);
  expect(new Set(tickets.map((t) => t.id)).size).toBe(103);
  expect(new Set(tickets.map((t) => t.section))).toEqual(new Set(['ORCH', 'MEZZ']));
  expect(new Set(tickets.map((t) => t.price_level))).toEqual(new Set(['A', 'B', 'C']));
  const orch = tickets.filter((t) => t.section === 'ORCH');
  expect(orch).toHaveLength(52); // the first section takes the ticket that does not divide
  expect(orch[0]).toMatchObject({ id: 'p-ORCH-A-1', row: 'A', seat: 1, price_level: 'A' });
  expect((orch[0]?.price ?? 0) > (orch[orch.length - 1]?.price ?? 0)).toBe(true);
});

test('the on-sale: a section with fewer rows than price levels has a level per row, from A', () => {
  const tickets = venueTickets('p', 20, gradedLayout({ sections: 1, seatsPerRow: 10, priceLevels: 5 }));
  expect(tickets.map((t) => `${t.row}${t.price_level}`)).toEqual([...Array(10).fill('AA'), ...Array(10).fill('BB')]);
});

test('the small venue: 3 sections × 2 price levels, rows R1.. of 50 seats, pairs of adjacent seats', () => {
  const tickets = venueTickets('l1m', 1000, SMALL_VENUE);
  expect(tickets).toHaveLength(1000);
  expect(tickets.map((t) => t.section).filter((s, i, all) => all.indexOf(s) === i)).toEqual(['ORCH', 'MEZZ', 'BALC']);
  expect(tickets.filter((t) => t.section === 'ORCH')).toHaveLength(333); // the extra ticket is spread, not first
  expect(tickets[0]).toEqual({ id: 'l1m-ORCH-R1-1', section: 'ORCH', row: 'R1', seat: 1, price: 15000, price_level: 'A' });
  expect(levels(tickets).size).toBe(partitionCount(SMALL_VENUE));
  expect(partitionCount(SMALL_VENUE)).toBe(6);
  // tickets 2k and 2k+1: adjacent seats of one row
  expect(tickets[2]?.row).toBe(tickets[3]?.row);
  expect((tickets[3]?.seat ?? 0) - (tickets[2]?.seat ?? 0)).toBe(1);
});

test('the stadium: 200 sections × 2 price levels, the back two thirds at the cheapest price', () => {
  const layout = stadiumLayout(200);
  expect(partitionCount(layout)).toBe(400);
  const tickets = venueTickets('st', minimumTickets(layout), layout);
  expect(levels(tickets).size).toBe(400); // the fewest tickets that give every section both levels
  const s001 = venueTickets('st', 200 * 150, layout).filter((t) => t.section === 'S001');
  expect(s001.filter((t) => t.price === STADIUM_CHEAPEST && t.price_level === 'B')).toHaveLength(100);
  expect(s001.filter((t) => t.price_level === 'A').map((t) => t.row)).toEqual(Array(50).fill('R1'));
  expect(cheapestShare(layout)).toBe(1 - 1 / 3);
});
