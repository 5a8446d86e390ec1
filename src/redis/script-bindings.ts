// One binding per Lua script: its KEYS and ARGV by name, in the order lua/<script>.lua's header lists them
// (test/scripts-bindings.test.ts checks that the header and the binding agree), and how its reply is read. Callers
// pass keys and arguments by name (runBound); nothing else lays them out by position.
import type { ChainableCommander } from 'ioredis';
import type { ArchiveState, SealResult } from '../domain/archive';
import type { PerformanceInfo, TicketState, TransactionState } from '../domain/types';
import type { RedisClient } from './connection';
import { parseRecord, parseTicketStates, parseTransaction } from './records';

export type ScriptArg = string | number | Buffer;
/** A script's reply; bulk strings are Buffers only when run with runBoundBinary. */
export type ScriptReply = (string | number | Buffer | null | ScriptReply[])[];

/** A script's interface. K: its key names, A: its argument names, Ctx: what decoding needs beyond the reply. */
export interface ScriptBinding<K extends string, A extends string, Out, Ctx> {
  /** KEYS, in order */
  keys: readonly K[];
  /** ARGV, in order */
  args: readonly A[];
  /** the name of the variadic ARGV tail after args ('' = none) */
  rest: string;
  /** a successful reply (first element >= 0; failures are codes.ts's) -> the result */
  decode(reply: ScriptReply, ctx: Ctx): Out;
}

/** One call of a script: its keys and arguments by name, and the values of its variadic tail. */
export interface ScriptCall<K extends string, A extends string> {
  keys: Readonly<Record<K, string>>;
  args: Readonly<Record<A, ScriptArg>>;
  rest?: readonly ScriptArg[];
}

const bind = <const K extends string, const A extends string, Out, Ctx = void>(b: ScriptBinding<K, A, Out, Ctx>) => b;

const PERFORMANCE = ['performance', 'tickets', 'available', 'holds', 'sold'] as const;
const TRANSACTION = [...PERFORMANCE, 'transaction'] as const;
const HOLD_ARGS = [
  'transaction_id',
  'performance_id',
  'client',
  'ip',
  'hold_seconds',
  'default_hold_seconds',
  'default_max_tickets',
  'open_record_ttl_ms',
  'buyer',
  'buyer_max_tickets',
  'deadline',
] as const;
const QUERY_ARGS = ['quantity', 'max_price', 'section', 'price_level'] as const;
const ARCHIVE_KEYS = ['performance', 'tickets', 'holds', 'sold', 'outbox', 'dead_letters'] as const;
/** The perf hash fields archive_state.lua returns after its counts, in its order (ARCHIVE_FIELDS of lua/includes/archive_facts.lua). */
const ARCHIVE_FIELDS = [
  'code', 'name', 'starts_at', 'ends_at', 'ends_ms', 'hold_seconds', 'max_tickets_per_transaction', 'created_at', 'updated_at',
  'closed_at', 'recovering', 'order_seq', 'archiving', 'sealed_tickets', 'sealed_sold', 'sealed_orders',
] as const;

/** archive_state.lua's reply: {0} none; {1, now, tickets, sold, last_hold, outbox_last, group, pending, delivered, dead, fields...}. */
function decodeArchiveState(r: ScriptReply, performanceId: string): ArchiveState | undefined {
  if (Number(r[0]) === 0) return undefined;
  const [, now, tickets, sold, lastHold, outboxLast, group, pending, delivered, dead, ...values] = r;
  const f = Object.fromEntries(ARCHIVE_FIELDS.map((name, i) => [name, text(values[i])])) as Record<(typeof ARCHIVE_FIELDS)[number], string | undefined>;
  const sealedAt = num(f.archiving);
  return {
    performanceId,
    nowMs: Number(now),
    settings: {
      id: performanceId,
      code: Number(f.code ?? 0),
      name: f.name,
      starts_at: f.starts_at,
      ends_at: f.ends_at,
      hold_seconds: num(f.hold_seconds),
      max_tickets_per_transaction: num(f.max_tickets_per_transaction),
    },
    createdAtMs: num(f.created_at),
    updatedAtMs: num(f.updated_at),
    endsMs: num(f.ends_ms),
    closedAtMs: num(f.closed_at),
    recovering: f.recovering,
    orderSeq: Number(f.order_seq ?? 0),
    tickets: Number(tickets),
    sold: Number(sold),
    lastHoldExpiryMs: Number(lastHold),
    outbox: { lastId: String(outboxLast), group: Number(group) === 1, pending: Number(pending), lastDeliveredId: String(delivered) },
    deadLetters: Number(dead),
    sealed:
      sealedAt === undefined
        ? undefined
        : { atMs: sealedAt, tickets: Number(f.sealed_tickets ?? 0), sold: Number(f.sealed_sold ?? 0), orders: Number(f.sealed_orders ?? 0) },
  };
}
const ACCESS_ARGS = ['transaction_id', 'client', 'admin'] as const;

/** A transaction reply (tx_reply_head in lua/includes/tx.lua) of the transaction the call was about. */
const transactionReply = (reply: ScriptReply, transactionId: string): TransactionState => parseTransaction(transactionId, reply);
const text = (v: unknown) => (v === '' || v === null || v === undefined ? undefined : String(v));
const num = (v: unknown) => (text(v) === undefined ? undefined : Number(v));

export const SCRIPT_BINDINGS = {
  load_inventory: bind({
    keys: PERFORMANCE,
    args: ['settings'],
    rest: 'tickets',
    decode: ([, added, updated, skippedSold, ...records]) => ({
      added: Number(added),
      updated: Number(updated),
      skippedSold: Number(skippedSold),
      records: records.map(String),
    }),
  }),
  restore_inventory: bind({
    keys: PERFORMANCE,
    args: ['performance'],
    rest: 'tickets',
    decode: ([, restored, sold]) => ({ restored: Number(restored), sold: Number(sold) }),
  }),
  raise_counter: bind({
    keys: ['counter'],
    args: ['minimum'],
    rest: '',
    decode: ([, value]) => Number(value),
  }),
  performance_info: bind({
    keys: PERFORMANCE,
    args: [],
    rest: '',
    decode: (r, performanceId: string): PerformanceInfo | undefined => {
      if (Number(r[0]) === 0) return undefined;
      const [, name, startsAt, holdSeconds, maxTickets, createdAt, updatedAt, code, total, available, locked, sold, endsAt, endsMs, closedAt, sealedAt, now] = r;
      return {
        id: performanceId,
        name: text(name),
        starts_at: text(startsAt),
        ends_at: text(endsAt),
        hold_seconds: num(holdSeconds),
        max_tickets_per_transaction: num(maxTickets),
        created_at_ms: num(createdAt),
        updated_at_ms: num(updatedAt),
        code: num(code),
        counts: { total: Number(total), available: Number(available), locked: Number(locked), sold: Number(sold) },
        ends_ms: num(endsMs),
        closed_at_ms: num(closedAt),
        sealed_at_ms: num(sealedAt),
        now_ms: Number(now),
      };
    },
  }),
  close_performance: bind({
    keys: ['performance'],
    args: [],
    rest: '',
    // {0}: no such performance; {1, closed_at}
    decode: ([found, closedAt]) => (Number(found) === 1 ? Number(closedAt) : undefined),
  }),
  archive_state: bind({
    keys: ARCHIVE_KEYS,
    args: [],
    rest: '',
    decode: decodeArchiveState,
  }),
  archive_seal: bind({
    keys: ARCHIVE_KEYS,
    args: ['ends_ms', 'margin_ms', 'order_seq', 'tickets', 'sold', 'outbox_last', 'orders'],
    rest: '',
    // {1, at} sealed now, {2, at} sealed before, {0, reason} refused (not codes.ts's: the archive decides)
    decode: ([status, detail]): SealResult =>
      Number(status) === 0 ? { sealed: false, reason: String(detail) } : { sealed: true, atMs: Number(detail), before: Number(status) === 2 },
  }),
  search: bind({
    keys: PERFORMANCE,
    args: QUERY_ARGS,
    rest: '',
    decode: (r, performanceId: string): TicketState[] => {
      const out: TicketState[] = [];
      for (let i = 1; i + 1 < r.length; i += 2) {
        out.push({
          id: String(r[i]),
          performance_id: performanceId,
          ...parseRecord(String(r[i + 1])),
          order_number: undefined,
          sold_by_transaction: undefined,
          holder: undefined,
          lock_expires_ms: undefined,
        });
      }
      return out;
    },
  }),
  list_tickets: bind({
    keys: PERFORMANCE,
    args: ['state', 'limit', 'cursor'],
    rest: '',
    decode: ([, cursor, ...states], performanceId: string) => ({
      nextCursor: cursor ? String(cursor) : undefined,
      tickets: parseTicketStates(performanceId, states),
    }),
  }),
  read_ticket: bind({
    keys: ['tickets', 'sold', 'holds'],
    args: ['ticket_id'],
    rest: '',
    decode: (r, at: { performanceId: string; ticketId: string }): TicketState | undefined => {
      if (Number(r[0]) === 0) return undefined;
      const [, record, sold, holder, expires, holderClient, holderIp] = r;
      const [state] = parseTicketStates(at.performanceId, [at.ticketId, record ?? '', sold ?? '', holder ?? '', expires ?? 0]);
      return state && { ...state, holder_client: text(holderClient), holder_ip: text(holderIp) };
    },
  }),
  hold: bind({ keys: TRANSACTION, args: HOLD_ARGS, rest: 'ticket_ids', decode: transactionReply }),
  hold_best: bind({ keys: TRANSACTION, args: [...HOLD_ARGS, ...QUERY_ARGS], rest: '', decode: transactionReply }),
  extend: bind({
    keys: TRANSACTION,
    args: [...ACCESS_ARGS, 'ticket_ids', 'max_hold_seconds', 'retention_ms', 'open_record_ttl_ms'],
    rest: '',
    decode: transactionReply,
  }),
  complete: bind({
    keys: [...TRANSACTION, 'outbox'],
    args: [...ACCESS_ARGS, 'ticket_ids', 'retention_ms', 'customer', 'payment_reference', 'min_order_sequence', 'deadline'],
    rest: '',
    decode: transactionReply,
  }),
  release: bind({ keys: TRANSACTION, args: [...ACCESS_ARGS, 'retention_ms'], rest: '', decode: transactionReply }),
  read_transaction: bind({
    keys: ['tickets', 'holds', 'sold', 'transaction'],
    args: ['client', 'admin'],
    rest: '',
    decode: transactionReply,
  }),
  mark_outbox: bind({
    keys: ['active'],
    args: ['performance_id'],
    rest: '',
    decode: ([, now]) => Number(now),
  }),
  trim_outbox: bind({
    keys: ['outbox'],
    args: [],
    rest: '',
    decode: ([, left, pending, now, trimmed]) => ({ left: Number(left), pending: Number(pending), nowMs: Number(now), trimmed: Number(trimmed) }),
  }),
  retire_outbox: bind({
    keys: ['active'],
    args: ['performance_id', 'marked_at', 'drained_at', 'idle_ms'],
    rest: '',
    decode: ([removed]) => Number(removed) === 1,
  }),
  idempotency_claim: bind({
    keys: ['record'],
    args: ['pending', 'lease_ms', 'deadline'],
    rest: '',
    // {1, now} claimed, {0, now, record} taken, {-50} too late (the caller decides: a claim is not codes.ts's);
    // the record is binary (src/redis/idempotency-store.ts): run with runBoundBinary
    decode: ([status, now, record]) => ({
      status: Number(status),
      nowMs: Number(now),
      record: Buffer.isBuffer(record) ? record : record === null || record === undefined ? undefined : Buffer.from(String(record)),
    }),
  }),
};

export type ScriptName = keyof typeof SCRIPT_BINDINGS;
type BindingOf<N extends ScriptName> = (typeof SCRIPT_BINDINGS)[N];
type KeysOf<N extends ScriptName> = BindingOf<N>['keys'][number];
type ArgsOf<N extends ScriptName> = BindingOf<N>['args'][number];
export type CallOf<N extends ScriptName> = ScriptCall<KeysOf<N>, ArgsOf<N>>;

/** KEYS then ARGV of a call, in the binding's order. */
export function layOut<N extends ScriptName>(name: N, call: CallOf<N>): ScriptArg[] {
  const b = SCRIPT_BINDINGS[name] as ScriptBinding<KeysOf<N>, ArgsOf<N>, unknown, unknown>;
  if (b.rest === '' && call.rest && call.rest.length > 0) throw new Error(`script ${name} takes no variadic arguments`);
  return [...b.keys.map((k) => call.keys[k]), ...b.args.map((a) => call.args[a]), ...(call.rest ?? [])];
}

const commandName = (name: ScriptName) => `tix_${name}`;

/** Defines every script on a client as an ioredis command (EVALSHA, re-sent as EVAL on NOSCRIPT). */
export function defineScripts(redis: RedisClient, sourceOf: (name: ScriptName) => string): void {
  for (const name of Object.keys(SCRIPT_BINDINGS) as ScriptName[]) {
    redis.defineCommand(commandName(name), { lua: sourceOf(name), numberOfKeys: SCRIPT_BINDINGS[name].keys.length });
  }
}

type ScriptFn = (...args: ScriptArg[]) => Promise<ScriptReply>;

/** Runs a script on a client (its raw reply) or adds it to a pipeline. */
export function runBound<N extends ScriptName>(target: RedisClient, name: N, call: CallOf<N>): Promise<ScriptReply>;
export function runBound<N extends ScriptName>(target: ChainableCommander, name: N, call: CallOf<N>): ChainableCommander;
export function runBound<N extends ScriptName>(
  target: RedisClient | ChainableCommander,
  name: N,
  call: CallOf<N>,
): Promise<ScriptReply> | ChainableCommander {
  const fn = (target as unknown as Record<string, ScriptFn>)[commandName(name)];
  if (!fn) throw new Error(`script ${name} is not defined on this connection`);
  return fn.call(target, ...layOut(name, call)) as Promise<ScriptReply> | ChainableCommander;
}

/** runBound with the reply's bulk strings as Buffers (ioredis's `<command>Buffer`): for scripts that return binary values. */
export function runBoundBinary<N extends ScriptName>(target: RedisClient, name: N, call: CallOf<N>): Promise<ScriptReply> {
  const fn = (target as unknown as Record<string, ScriptFn>)[`${commandName(name)}Buffer`];
  if (!fn) throw new Error(`script ${name} is not defined on this connection`);
  return fn.call(target, ...layOut(name, call));
}
