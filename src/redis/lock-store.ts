// The lock store adapter: the domain's LockStore port over Redis, one Lua script per operation.
import { Cluster } from 'ioredis';
import { checkServing, type RedisClient } from './connection';
import { NotReplicated } from '../errors';
import type {
  Access,
  BestAvailableQuery,
  Completion,
  DomainSettings,
  HoldOptions,
  InventoryTicket,
  LockStore,
  PerformanceInfo,
  PerformanceSettings,
  TicketState,
  TicketStateFilter,
  TransactionState,
} from '../domain/types';
import type { Metrics } from '../metrics';
import { OutboxMarks } from './active-outboxes';
import { RedisDeadlines } from './clock';
import { checkReply } from './codes';
import { performanceCodeOf } from '../domain/transaction-id';
import { guarded } from './failures';
import {
  performanceKeys,
  performanceSequenceKey,
  performanceSetKey,
  ticketIndexKey,
  performanceCodeKey,
  transactionKey,
  buyerKey,
} from './keys';
import type { PerformanceDoc, TicketDoc } from '../domain/documents';
import { formatRecord, parseTicketDoc } from './records';
import { runBound, SCRIPT_BINDINGS, type CallOf, type ScriptArg, type ScriptName, type ScriptReply } from './script-bindings';

/**
 * A bounded in-process map for facts that never change (ticket -> performance, transaction -> performance). Two
 * generations: when the current one is full it becomes the old one and the one before is dropped whole (evicting
 * one Map entry at a time costs O(n) in V8 once many have been deleted).
 */
export class ImmutableCache {
  private current = new Map<string, string>();
  private previous = new Map<string, string>();
  constructor(private readonly max: number) {}
  get(key: string) {
    return this.current.get(key) ?? this.previous.get(key);
  }
  set(key: string, value: string) {
    if (this.current.size >= Math.ceil(this.max / 2)) {
      this.previous = this.current;
      this.current = new Map();
    }
    this.current.set(key, value);
  }
}

const sortedJoin = (ids: readonly string[] | undefined) => (ids ? [...ids].sort().join(',') : '');

/** REDIS_WAIT_REPLICAS: the replicas a sale must reach before complete answers, and the connection that waits. */
export interface ReplicationWait {
  replicas: number;
  timeoutMs: number;
  /**
   * A connection of its own: WAIT blocks the connection it is sent on, and counts the writes sent on that
   * connection, so the sale and its WAIT go together here and never stall the API's shared connection.
   */
  connection: RedisClient;
}

/** commands of the ticket index sent together (a PUT of 50,000 tickets sends ten batches) */
const TICKET_INDEX_BATCH = 5000;

export class RedisLockStore implements LockStore {
  private readonly ticketPerformance = new ImmutableCache(500_000);
  private readonly codePerformance = new ImmutableCache(100_000); // performance code -> performance id
  private readonly performanceCodes = new ImmutableCache(100_000); // performance id -> its code
  /** the performances this process marked as having an active outbox (see src/redis/active-outboxes.ts) */
  private readonly outboxMarks: OutboxMarks;

  constructor(
    private readonly redis: RedisClient,
    private readonly settings: DomainSettings,
    /**
     * Deadlines of holds (lua/hold.lua): a hold that reaches Redis after its caller was told 503 must not lock
     * tickets for a transaction nobody knows. Default: none.
     */
    private readonly deadlines = new RedisDeadlines(0),
    /** when set, a sale is answered only once this many replicas acknowledged it (see runDurably) */
    private readonly replication?: ReplicationWait,
    /** each script call's round trip, by script (/metrics) */
    private readonly scriptDuration?: Metrics['scriptDuration'],
  ) {
    this.outboxMarks = new OutboxMarks(redis);
  }

  /** Redis may have lost data (a reconnection, a failover): each performance's next complete marks its outbox again. */
  forgetOutboxMarks(): void {
    this.outboxMarks.forget();
  }

  /** Times one script call (also when it fails). */
  private async timed<T>(name: ScriptName, call: () => Promise<T>): Promise<T> {
    const end = this.scriptDuration?.startTimer({ script: name });
    try {
      return await call();
    } finally {
      end?.();
    }
  }

  /** ttl of a transaction record while it may still be extended (ms) */
  private get openRecordTtlMs() {
    return (this.settings.maxHoldSeconds + this.settings.recordRetentionSeconds) * 1000;
  }

  private get retentionMs() {
    return this.settings.recordRetentionSeconds * 1000;
  }

  /** The keys of a performance's scripts (each binding picks those it takes), and its transaction's when given. */
  private scriptKeys(performanceId: string, transactionId = '') {
    const k = performanceKeys(performanceId);
    return { ...k, transaction: transactionKey(performanceId, transactionId) };
  }

  /** Runs a script; a failed reply throws its domain error (codes.ts). */
  private run<N extends ScriptName>(name: N, call: CallOf<N>): Promise<ScriptReply> {
    return guarded(async () => checkReply(await this.timed(name, () => runBound(this.redis, name, call)), name));
  }

  /**
   * Runs a transaction script (complete waits for replicas when REDIS_WAIT_REPLICAS asks for it); a reply that
   * carries Redis time keeps the deadlines' clock in step.
   */
  private async runTx<N extends 'hold' | 'hold_best' | 'extend' | 'complete' | 'release'>(
    name: N,
    transactionId: string,
    call: CallOf<N>,
  ): Promise<TransactionState> {
    return guarded(async () => {
      const reply = await this.timed(name, () =>
        name === 'complete' && this.replication ? this.runDurably(call as CallOf<'complete'>, this.replication) : runBound(this.redis, name, call),
      );
      if (Number(reply[0]) === 1) this.deadlines.observe(Number(reply[1]));
      return SCRIPT_BINDINGS[name].decode(checkReply(reply, name), transactionId);
    });
  }

  /**
   * Reads (HGET) or claims (HSETNX) entries of the global ticket -> performance index, whose buckets lie in many
   * slots. One node: one pipeline. A Cluster: one command each, never a pipeline across slots (ioredis's
   * auto-pipelining batches them per node).
   */
  private async ticketIndex(ops: (['hget', string] | ['hsetnx', string, string])[]): Promise<unknown[]> {
    const out: unknown[] = [];
    // in batches: every command of a batch waits for the ones before it, all within one command timeout
    for (let from = 0; from < ops.length; from += TICKET_INDEX_BATCH) out.push(...(await this.ticketIndexBatch(ops.slice(from, from + TICKET_INDEX_BATCH))));
    return out;
  }

  private async ticketIndexBatch(ops: (['hget', string] | ['hsetnx', string, string])[]): Promise<unknown[]> {
    const redis = this.redis;
    if (redis instanceof Cluster) {
      return Promise.all(ops.map((op) => (op[0] === 'hget' ? redis.hget(ticketIndexKey(op[1]), op[1]) : redis.hsetnx(ticketIndexKey(op[1]), op[1], op[2]))));
    }
    const pipeline = redis.pipeline();
    for (const op of ops) {
      if (op[0] === 'hget') pipeline.hget(ticketIndexKey(op[1]), op[1]);
      else pipeline.hsetnx(ticketIndexKey(op[1]), op[1], op[2]);
    }
    return ((await pipeline.exec()) ?? []).map(([err, value]) => {
      if (err) throw err;
      return value;
    });
  }

  async ticketPerformances(ticketIds: readonly string[]): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    const unknown = ticketIds.filter((id) => {
      const cached = this.ticketPerformance.get(id);
      if (cached !== undefined) found.set(id, cached);
      return cached === undefined;
    });
    if (unknown.length === 0) return found;
    const values = await guarded(() => this.ticketIndex(unknown.map((id) => ['hget', id])));
    values.forEach((value, i) => {
      const id = unknown[i] as string;
      if (typeof value === 'string') {
        found.set(id, value);
        this.ticketPerformance.set(id, value);
      }
    });
    return found;
  }

  async claimTickets(performanceId: string, ticketIds: readonly string[]): Promise<string[]> {
    const known = await this.ticketPerformances(ticketIds);
    const others = ticketIds.filter((id) => known.has(id) && known.get(id) !== performanceId);
    if (others.length > 0) return others;
    const unclaimed = ticketIds.filter((id) => !known.has(id));
    return guarded(async () => {
      const set = await this.ticketIndex(unclaimed.map((id) => ['hsetnx', id, performanceId]));
      // HSETNX 0: someone claimed it since we looked (a concurrent PUT); it is ours only if they claimed it for us
      const raced = unclaimed.filter((id, j) => {
        if (Number(set[j]) === 1) this.ticketPerformance.set(id, performanceId);
        return Number(set[j]) === 0;
      });
      const owners = raced.length ? await this.ticketPerformances(raced) : new Map<string, string>();
      return raced.filter((id) => owners.get(id) !== performanceId);
    });
  }

  async transactionPerformance(transactionId: string): Promise<string | undefined> {
    const code = performanceCodeOf(transactionId);
    if (code === undefined) return undefined;
    const cached = this.codePerformance.get(String(code));
    if (cached !== undefined) return cached;
    const value = await guarded(() => this.redis.get(performanceCodeKey(code)));
    if (value !== null) this.codePerformance.set(String(code), value);
    return value ?? undefined;
  }

  async performanceCode(performanceId: string): Promise<number | undefined> {
    const cached = this.performanceCodes.get(performanceId);
    if (cached !== undefined) return Number(cached);
    const value = await guarded(() => this.redis.hget(performanceKeys(performanceId).performance, 'code'));
    if (value === null) return undefined;
    this.performanceCodes.set(performanceId, value);
    return Number(value);
  }

  /** Writes code -> performance before anything of the performance can be held (see performanceCodeKey). */
  private async recordCode(performanceId: string, code: number | undefined): Promise<void> {
    if (code === undefined || this.performanceCodes.get(performanceId) === String(code)) return;
    await guarded(() => this.redis.set(performanceCodeKey(code), performanceId));
    this.performanceCodes.set(performanceId, String(code));
  }

  async salesState(performanceId: string) {
    const [code, orderSeq, recovering] = await guarded(() =>
      this.redis.hmget(performanceKeys(performanceId).performance, 'code', 'order_seq', 'recovering'),
    );
    return { exists: code !== null, orderSeq: Number(orderSeq ?? 0), recovering: recovering ?? undefined };
  }

  async markRecovering(performanceId: string, reason: string): Promise<void> {
    await guarded(() => this.redis.hset(performanceKeys(performanceId).performance, 'recovering', reason));
  }

  async clearRecovering(performanceId: string): Promise<void> {
    await guarded(() => this.redis.hdel(performanceKeys(performanceId).performance, 'recovering'));
  }

  nextPerformanceCode(): Promise<number> {
    return guarded(() => this.redis.incr(performanceSequenceKey));
  }

  async loadInventory(
    performanceId: string,
    settings: PerformanceSettings & { code?: number; ends_ms?: number },
    tickets: readonly (InventoryTicket & { relativeOrd: number })[],
  ) {
    const rest: ScriptArg[] = [];
    for (const t of tickets) {
      rest.push(t.id, t.relativeOrd, t.price ?? '', t.section ?? '', t.row ?? '', t.seat ?? '', t.price_level ?? '');
    }
    // the code and the writer's performance list first: no ticket can be held (or sold) before both are written
    await this.recordCode(performanceId, settings.code);
    await guarded(() => this.redis.sadd(performanceSetKey, performanceId));
    const reply = await this.run('load_inventory', {
      keys: performanceKeys(performanceId),
      args: { settings: JSON.stringify(settings) },
      rest,
    });
    const loaded = SCRIPT_BINDINGS.load_inventory.decode(reply);
    return {
      added: loaded.added,
      updated: loaded.updated,
      skippedSold: loaded.skippedSold,
      tickets: tickets.map((t, i) => parseTicketDoc(performanceId, t.id, loaded.records[i] as string)),
    };
  }

  async restoreInventory(
    performance: PerformanceDoc & { next_ord: number; order_seq: number; closed_at_ms?: number },
    tickets: readonly (TicketDoc & { sold: string | undefined })[],
  ): Promise<void> {
    // The global ticket -> performance index too: claimTickets skips ids this process has cached, and Redis may
    // have lost them. HSETNX never moves a ticket another performance already owns.
    await guarded(() => this.ticketIndex(tickets.map((t) => ['hsetnx', t.id, performance.id])));
    await this.recordCode(performance.id, performance.code);
    const rest: ScriptArg[] = [];
    for (const t of tickets) rest.push(t.id, formatRecord(t), t.sold ?? '');
    await this.run('restore_inventory', { keys: performanceKeys(performance.id), args: { performance: JSON.stringify(performance) }, rest });
    await this.run('raise_counter', { keys: { counter: performanceSequenceKey }, args: { minimum: performance.code } });
    await guarded(() => this.redis.sadd(performanceSetKey, performance.id));
  }

  async performanceInfo(performanceId: string): Promise<PerformanceInfo | undefined> {
    const reply = await this.run('performance_info', { keys: performanceKeys(performanceId), args: {} });
    return SCRIPT_BINDINGS.performance_info.decode(reply, performanceId);
  }

  async closePerformance(performanceId: string): Promise<number | undefined> {
    const reply = await this.run('close_performance', { keys: { performance: performanceKeys(performanceId).performance }, args: {} });
    return SCRIPT_BINDINGS.close_performance.decode(reply);
  }

  private queryArgs(query: BestAvailableQuery) {
    return { quantity: query.quantity, max_price: query.max_price ?? '', section: query.section ?? '', price_level: query.price_level ?? '' };
  }

  async search(performanceId: string, query: BestAvailableQuery): Promise<TicketState[]> {
    const reply = await this.run('search', { keys: performanceKeys(performanceId), args: this.queryArgs(query) });
    return SCRIPT_BINDINGS.search.decode(reply, performanceId);
  }

  async listTickets(performanceId: string, state: TicketStateFilter, limit: number, cursor: string) {
    const reply = await this.run('list_tickets', { keys: performanceKeys(performanceId), args: { state: state ?? '', limit, cursor } });
    const { nextCursor, tickets } = SCRIPT_BINDINGS.list_tickets.decode(reply, performanceId);
    // who holds each locked ticket (the view shows it to admins and to the holder), in one round trip
    const locked = tickets.filter((t) => t.holder !== undefined);
    if (locked.length > 0) {
      await guarded(async () => {
        const pipeline = this.redis.pipeline();
        for (const t of locked) pipeline.hmget(transactionKey(performanceId, t.holder as string), 'client', 'ip');
        const results = (await pipeline.exec()) ?? [];
        results.forEach(([err, value], i) => {
          if (err) throw err;
          const [client, ip] = (value as (string | null)[] | null) ?? [];
          const t = locked[i] as TicketState;
          if (client) t.holder_client = client;
          if (ip) t.holder_ip = ip;
        });
      });
    }
    return { nextCursor, tickets };
  }

  async readTicket(performanceId: string, ticketId: string): Promise<TicketState | undefined> {
    const reply = await this.run('read_ticket', { keys: performanceKeys(performanceId), args: { ticket_id: ticketId } });
    return SCRIPT_BINDINGS.read_ticket.decode(reply, { performanceId, ticketId });
  }

  private holdArgs(o: HoldOptions) {
    return {
      transaction_id: o.transactionId,
      performance_id: o.performanceId,
      client: o.caller.name,
      ip: o.caller.ip,
      hold_seconds: o.holdSeconds ?? 0,
      default_hold_seconds: this.settings.lockTtlSeconds,
      default_max_tickets: this.settings.maxTicketsPerTransaction,
      open_record_ttl_ms: this.openRecordTtlMs,
      buyer: (o.buyer && buyerKey(o.performanceId, o.buyer)) ?? '',
      buyer_max_tickets: this.settings.buyerMaxTickets,
      deadline: this.deadlines.deadline(),
    };
  }

  hold(o: HoldOptions, ticketIds: readonly string[]): Promise<TransactionState> {
    const keys = this.scriptKeys(o.performanceId, o.transactionId);
    return this.runTx('hold', o.transactionId, { keys, args: this.holdArgs(o), rest: ticketIds });
  }

  holdBest(o: HoldOptions, query: BestAvailableQuery): Promise<TransactionState> {
    const keys = this.scriptKeys(o.performanceId, o.transactionId);
    return this.runTx('hold_best', o.transactionId, { keys, args: { ...this.holdArgs(o), ...this.queryArgs(query) } });
  }

  /**
   * The script, then WAIT on the same connection (one pipeline: the same node in a Cluster too). A sale that fewer
   * replicas than asked acknowledged in time is NotReplicated (503): it stays done on the primary, and the same
   * complete repeated (which writes again, so its WAIT covers the sale) answers 200 once they have it.
   */
  private async runDurably(call: CallOf<'complete'>, wait: ReplicationWait): Promise<ScriptReply> {
    const pipeline = wait.connection.pipeline();
    runBound(pipeline, 'complete', call);
    pipeline.call('WAIT', wait.replicas, wait.timeoutMs);
    const results = ((await pipeline.exec()) ?? []) as [Error | null, unknown][];
    const [scriptError, reply] = results[0] ?? [new Error('Connection is closed (no reply to the sale)'), undefined];
    const [waitError, acknowledged] = results[1] ?? [new Error('Connection is closed (no reply to WAIT)'), 0];
    if (scriptError) throw scriptError;
    if (Number((reply as ScriptReply)[0]) === 1) {
      if (waitError) throw waitError;
      if (Number(acknowledged) < wait.replicas) throw new NotReplicated(wait.replicas, Number(acknowledged));
    }
    return reply as ScriptReply;
  }

  private accessArgs(a: Access) {
    return { transaction_id: a.transactionId, client: a.caller.name, admin: a.caller.role === 'admin' ? '1' : '0' };
  }

  extend(a: Access, ticketIds: readonly string[] | undefined): Promise<TransactionState> {
    return this.runTx('extend', a.transactionId, {
      keys: this.scriptKeys(a.performanceId, a.transactionId),
      args: {
        ...this.accessArgs(a),
        ticket_ids: sortedJoin(ticketIds),
        max_hold_seconds: this.settings.maxHoldSeconds,
        retention_ms: this.retentionMs,
        open_record_ttl_ms: this.openRecordTtlMs,
      },
    });
  }

  /**
   * The performance's outbox is marked active first (the writers read only those), and the sale must reach Redis
   * while that mark covers it (its deadline): see src/redis/active-outboxes.ts. A mark that fails (the active set's
   * shard unreachable) does not stop the sale: it goes on unmarked, without a deadline, and the writer's scan finds
   * its outbox.
   */
  async complete(a: Access, ticketIds: readonly string[] | undefined, c: Completion): Promise<TransactionState> {
    const deadline = await this.outboxMarks.deadlineFor(a.performanceId).catch(() => 0);
    return this.runTx('complete', a.transactionId, {
      keys: this.scriptKeys(a.performanceId, a.transactionId),
      args: {
        ...this.accessArgs(a),
        ticket_ids: sortedJoin(ticketIds),
        retention_ms: this.retentionMs,
        customer: c.customer ? JSON.stringify(c.customer) : '',
        payment_reference: c.paymentReference ?? '',
        min_order_sequence: c.minSequence ?? 0,
        deadline,
      },
    });
  }

  release(a: Access): Promise<TransactionState> {
    const keys = this.scriptKeys(a.performanceId, a.transactionId);
    return this.runTx('release', a.transactionId, { keys, args: { ...this.accessArgs(a), retention_ms: this.retentionMs } });
  }

  async readTransaction(a: Access): Promise<TransactionState> {
    const { client, admin } = this.accessArgs(a);
    const reply = await this.run('read_transaction', { keys: this.scriptKeys(a.performanceId, a.transactionId), args: { client, admin } });
    return SCRIPT_BINDINGS.read_transaction.decode(reply, a.transactionId);
  }

  /** Resolves when Redis can take holds now (see checkServing), else rejects with Unavailable. */
  async ping(): Promise<void> {
    await guarded(() => checkServing(this.redis));
  }
}
