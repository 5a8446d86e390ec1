// Script failure codes (negative first element of a script's reply) -> domain errors. The one table.
import { AppError, InvalidRequest, performanceClosed, performanceNotFound, Recovering, ticketsNotFound, transactionNotFound, Unavailable } from '../errors';
import type { ScriptName, ScriptReply } from './script-bindings';

export const SCRIPT_CODES = {
  TICKETS_UNAVAILABLE: -1,
  NOT_FOUND: -2,
  TOO_MANY_TICKETS: -4,
  TRANSACTION_NOT_FOUND: -10,
  TICKETS_MISMATCH: -11,
  INVALID_STATE: -12,
  HOLD_LIMIT_REACHED: -13,
  NOT_ENOUGH_TICKETS: -20,
  INVENTORY_FULL: -30,
  BUYER_LIMIT: -40,
  TOO_LATE: -50,
  RECOVERING: -60,
  PERFORMANCE_CLOSED: -70,
} as const;

const pairs = (rest: ScriptReply) => {
  const out: { id: string; reason: string }[] = [];
  for (let i = 0; i + 1 < rest.length; i += 2) out.push({ id: String(rest[i]), reason: String(rest[i + 1]) });
  return out;
};

/** The transaction scripts that may refuse a state (-12), as the API names their operation and its participle. */
const STATE_OPERATIONS: Partial<Record<ScriptName, [string, string]>> = {
  extend: ['checkout', 'checked out'],
  complete: ['complete', 'completed'],
  release: ['release', 'released'],
};

const table: Record<number, (rest: ScriptReply, script: ScriptName) => AppError> = {
  [SCRIPT_CODES.TICKETS_UNAVAILABLE]: (rest) =>
    new AppError('TICKETS_UNAVAILABLE', 'Some tickets are sold or locked by another transaction; nothing was locked.', {
      tickets: pairs(rest),
    }),
  [SCRIPT_CODES.NOT_FOUND]: (rest) => (rest.length ? ticketsNotFound(rest.map(String)) : performanceNotFound()),
  [SCRIPT_CODES.TOO_MANY_TICKETS]: (rest) =>
    new InvalidRequest(
      [{ path: 'tickets', message: `at most ${String(rest[0])} tickets per transaction for this performance` }],
      'Too many tickets for one transaction.',
    ),
  [SCRIPT_CODES.TRANSACTION_NOT_FOUND]: () => transactionNotFound(),
  [SCRIPT_CODES.RECOVERING]: () => new Recovering(),
  [SCRIPT_CODES.PERFORMANCE_CLOSED]: () => performanceClosed(),
  [SCRIPT_CODES.TICKETS_MISMATCH]: () =>
    new InvalidRequest([{ path: 'tickets', message: "must be exactly the transaction's tickets" }]),
  [SCRIPT_CODES.INVALID_STATE]: (rest, script) => {
    const [operation, done] = STATE_OPERATIONS[script] ?? [script, `changed by ${script}`]; // no other script refuses a state
    return new AppError('INVALID_TRANSACTION_STATE', `The transaction is ${String(rest[0])}, so it cannot be ${done}.`, {
      transaction_status: String(rest[0]),
      operation,
    });
  },
  [SCRIPT_CODES.HOLD_LIMIT_REACHED]: (rest) =>
    new AppError('HOLD_LIMIT_REACHED', 'The transaction reached its maximum hold time; complete it or start a new one.', {
      hold_limit: new Date(Number(rest[0])).toISOString(),
    }),
  [SCRIPT_CODES.NOT_ENOUGH_TICKETS]: (rest) =>
    new AppError('NOT_ENOUGH_TICKETS', 'Not enough tickets are available.', { available: Number(rest[0]) }),
  [SCRIPT_CODES.BUYER_LIMIT]: (rest) =>
    new AppError('BUYER_LIMIT', `This buyer may have at most ${String(rest[0])} tickets locked at once in this performance.`, {
      limit: Number(rest[0]),
      locked: Number(rest[1]),
    }),
  [SCRIPT_CODES.TOO_LATE]: (_rest, script) =>
    new Unavailable(`Redis answered too late; nothing was ${script === 'complete' ? 'sold' : 'held'}. Retry shortly.`, 'redis_late'),
  [SCRIPT_CODES.INVENTORY_FULL]: (rest) =>
    new InvalidRequest(
      [{ path: 'tickets', message: `a performance holds at most ${String(rest[0])} tickets` }],
      'The performance is full.',
    ),
};

/** Throws the domain error for a failed reply of a script; returns the reply when it succeeded (code >= 0). */
export function checkReply(reply: ScriptReply, script: ScriptName): ScriptReply {
  const code = Number(reply[0]);
  if (code >= 0) return reply;
  const make = table[code];
  if (!make) throw new AppError('INTERNAL', `unknown script code ${code}`);
  throw make(reply.slice(1), script);
}
