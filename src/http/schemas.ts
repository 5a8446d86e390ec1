// zod schemas of every request: the input contract in code (the OpenAPI document, src/http/openapi.ts, is built from them).
import { z } from 'zod';
import { TICKET_STATES } from '../domain/types';
import { InvalidRequest } from '../errors';

export const ID = /^[A-Za-z0-9._:-]{1,128}$/;
/** A next_cursor of a ticket page: a number (a score, an offset or a scan cursor), or a scan cursor '.' a ticket id. */
export const TICKET_CURSOR = /^(\d{1,20}(\.[A-Za-z0-9._:-]{1,128})?)?$/;
// letter case spelled out, not an i flag: JSON Schema patterns (the OpenAPI document) have no flags
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const MAX_PRICE = 2 ** 31 - 1; // cents; the availability score needs price < 2^31

export const id = z.string().regex(ID, 'must be 1-128 characters of A-Z a-z 0-9 . _ : -');
export const transactionId = z.string().regex(UUID, 'must be a UUID');
/** Free text of a ticket attribute: no '|' (the record separator) and no control characters. */
const attribute = z
  .string()
  .max(64)
  // eslint-disable-next-line no-control-regex -- rejecting control characters is the point
  .regex(/^[^|\u0000-\u001f\u007f]*$/, "must not contain '|' or control characters");
const text = (max: number) => z.string().trim().min(1).max(max);

export const inventoryBody = z.object({
  name: text(200).optional(),
  starts_at: z.iso.datetime({ offset: true }).optional(),
  ends_at: z.iso
    .datetime({ offset: true })
    .optional()
    .describe('when the performance ends (no new holds from then on); default starts_at + PERFORMANCE_END_GRACE_SECONDS'),
  hold_seconds: z.number().int().positive().optional().describe("the performance's default hold, within MIN_HOLD_SECONDS..MAX_HOLD_SECONDS"),
  max_tickets_per_transaction: z.number().int().min(1).max(1000).optional().describe('default MAX_TICKETS_PER_TRANSACTION'),
  tickets: z
    .array(
      z.object({
        id,
        section: attribute.optional(),
        row: attribute.optional(),
        seat: z.union([attribute, z.number().int().min(0).max(1e9)]).transform(String).optional().describe('a number is stored as its string'),
        price: z.number().int().min(0).max(MAX_PRICE).optional().describe('cents'),
        price_level: attribute.optional(),
      }),
    )
    .max(50_000)
    .describe('added, or updated when unsold; attributes left out keep their values'),
});

const quantity = z.number().int().min(1).max(1000);
const bestFilters = {
  section: attribute.min(1).optional().describe('only this section'),
  price_level: attribute.min(1).optional().describe('only this price level'),
  max_price: z.number().int().min(0).max(MAX_PRICE).optional().describe('only tickets at most this price (cents)'),
};

export const beginBody = z
  .object({
    tickets: z.array(id).max(1000).optional().describe('the tickets to hold; or give performance_id and quantity instead'),
    performance_id: id.optional().describe('best available: the performance'),
    quantity: quantity.optional().describe('best available: how many tickets'),
    ...bestFilters,
    hold_seconds: z.number().int().positive().optional().describe('within MIN_HOLD_SECONDS..MAX_HOLD_SECONDS; default the performance\'s, else LOCK_TTL_SECONDS'),
    buyer: z
      .object({ id: id.optional(), email: z.email().max(254).optional() })
      .optional()
      .describe('who buys, for the per-buyer limit (BUYER_MAX_TICKETS); id wins over email'),
  })
  .describe('either tickets, or performance_id and quantity (not both)')
  .superRefine((b, ctx) => {
    const best = b.performance_id !== undefined || b.quantity !== undefined;
    if (b.tickets && best) {
      ctx.addIssue({ code: 'custom', path: ['tickets'], message: 'give either tickets or performance_id + quantity, not both' });
    } else if (!b.tickets && (b.performance_id === undefined || b.quantity === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['tickets'], message: 'give tickets, or performance_id and quantity' });
    }
  });

export const updateBody = z.object({
  status: z.enum(['checkout', 'complete']).describe('checkout extends the hold; complete sells'),
  id: z.string().max(128).optional().describe('when given, must equal the path id'),
  tickets: z.array(id).max(1000).optional().describe("when given, must be exactly the transaction's tickets"),
  customer: z
    .object({
      email: z.email().max(254),
      first_name: text(100).optional(),
      last_name: text(100).optional(),
      phone: text(40).optional(),
    })
    .optional()
    .describe('complete only: the buyer, recorded in the order and the PEOPLE record'),
  payment_reference: text(200).optional().describe('complete only: recorded in the order'),
});

/** Query values are single strings: a missing parameter and a repeated one (an array) are 400s, each told apart. */
const one = z.string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be given once, not repeated') });
const whole = (min: number, max: number) =>
  one.regex(/^\d{1,10}$/, 'must be a whole number').transform(Number).pipe(z.number().int().min(min).max(max));

export const searchQuery = z.object({
  performance_id: one.pipe(id),
  quantity: whole(1, 1000).describe('how many tickets'),
  section: one.pipe(attribute.min(1)).optional().describe('only this section'),
  price_level: one.pipe(attribute.min(1)).optional().describe('only this price level'),
  max_price: whole(0, MAX_PRICE).optional().describe('only tickets at most this price (cents)'),
});

export const orderNumber = z.string().regex(/^[A-Z0-9]{1,12}$/, 'must be an order number');

export const peopleQuery = z.object({ email: one.pipe(z.email().max(254)).describe('any letter case') });

export const ticketPageQuery = z.object({
  state: one.pipe(z.enum(TICKET_STATES)).optional().describe('only tickets in this state'),
  limit: whole(1, 1000).default(100).describe('page size'),
  cursor: one.regex(TICKET_CURSOR, 'must be a next_cursor from an earlier page').optional().describe('next_cursor of the previous page'),
});

/** Parses input with a schema; failures become 400 INVALID_REQUEST with one issue per problem. */
export function parse<T extends z.ZodType>(schema: T, input: unknown, prefix = ''): z.output<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw new InvalidRequest(
    result.error.issues.map((i) => ({ path: [prefix, ...i.path.map(String)].filter(Boolean).join('.') || '(body)', message: i.message })),
  );
}
