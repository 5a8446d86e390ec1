// Transaction use cases: begin (hold), checkout (extend), complete, release and read.
import { AppError, InvalidRequest, performanceNotFound, ticketsNotFound, transactionNotFound, type Issue } from '../errors';
import type { ArchivedPerformances } from './lifecycle';
import { mintTransactionId } from './transaction-id';
import type { OrderNumberFence } from './order-fence';
import type { BestAvailableQuery, Buyer, Caller, Completion, DomainSettings, HoldRateLimiter, LockStore, TransactionState } from './types';
import { transactionView, type TransactionView } from './views';

export interface BeginRequest {
  tickets?: string[];
  best?: BestAvailableQuery & { performance_id: string };
  hold_seconds?: number;
  /** counts the tickets against this buyer's limit */
  buyer?: Buyer;
  /**
   * The caller's name for this attempt (its Idempotency-Key): a retry with the same key begins the same transaction
   * id, so a hold that happened although its answer was lost (a 503) is found again instead of made twice.
   */
  retry_key?: string | undefined;
}

export interface UpdateRequest {
  status: 'checkout' | 'complete';
  id?: string;
  tickets?: string[];
  customer?: Record<string, string>;
  payment_reference?: string;
}

export class TransactionService {
  constructor(
    private readonly store: LockStore,
    private readonly settings: DomainSettings,
    private readonly holdRate: HoldRateLimiter = { consume: async () => undefined },
    /** keeps order numbers unique across a Redis rollback (see order-fence.ts); none = no check */
    private readonly fence?: OrderNumberFence,
    /** tells a hold on an archived performance (409 PERFORMANCE_CLOSED) from one on a missing one; none = 404s */
    private readonly archived?: ArchivedPerformances,
  ) {}

  /**
   * Locks the tickets (given ids, or the best available) all-or-nothing and opens a transaction. Every attempt
   * counts against the client's hold rate, a refused one too (bots probing for free seats are the point).
   */
  async begin(caller: Caller, req: BeginRequest): Promise<TransactionView> {
    this.checkHoldSeconds(req.hold_seconds);
    await this.holdRate.consume(caller.name);
    try {
      const performanceId = req.best ? req.best.performance_id : await this.performanceOfTickets(req.tickets ?? []);
      const code = await this.store.performanceCode(performanceId);
      if (code === undefined) throw performanceNotFound();
      // the id carries the performance (see transaction-id.ts); a retry key gives the same id for the same client
      const transactionId = mintTransactionId(code, req.retry_key === undefined ? undefined : `${caller.name}\n${req.retry_key}`);
      const options = { transactionId, performanceId, caller, holdSeconds: req.hold_seconds, buyer: req.buyer };
      if (req.best) return transactionView(await this.store.holdBest(options, req.best), caller);
      return transactionView(await this.store.hold(options, req.tickets ?? []), caller);
    } catch (err) {
      // what Redis does not know may be an archived performance's: closed, not missing
      const missing = err instanceof AppError && (err.code === 'PERFORMANCE_NOT_FOUND' || err.code === 'TICKETS_NOT_FOUND');
      if (!missing || !this.archived) throw err;
      throw await this.archived.explain(err, req.best ? { performanceId: req.best.performance_id } : { ticketIds: req.tickets ?? [] });
    }
  }

  /** The one performance all ticket ids belong to; unknown ids are a 404, mixed performances a 400. */
  private async performanceOfTickets(ids: readonly string[]): Promise<string> {
    const issues = distinctIssues(ids);
    if (issues.length > 0) throw new InvalidRequest(issues);
    const owners = await this.store.ticketPerformances(ids);
    const unknown = ids.filter((id) => !owners.has(id));
    if (unknown.length > 0) throw ticketsNotFound(unknown);
    const performances = new Set(owners.values());
    if (performances.size > 1) {
      throw new InvalidRequest([{ path: 'tickets', message: 'all tickets of a transaction must belong to one performance' }]);
    }
    return [...performances][0] as string;
  }

  private checkHoldSeconds(holdSeconds: number | undefined) {
    const { minHoldSeconds, maxHoldSeconds } = this.settings;
    if (holdSeconds !== undefined && (holdSeconds < minHoldSeconds || holdSeconds > maxHoldSeconds)) {
      throw new InvalidRequest([{ path: 'hold_seconds', message: `must be between ${minHoldSeconds} and ${maxHoldSeconds}` }]);
    }
  }

  /** checkout: extend the hold; complete: sell the tickets and record the sale for the order writer. */
  async update(caller: Caller, transactionId: string, req: UpdateRequest): Promise<TransactionView> {
    const issues: Issue[] = [];
    if (req.id !== undefined && req.id !== transactionId) issues.push({ path: 'id', message: 'must equal the transaction id in the path' });
    if (req.tickets) issues.push(...distinctIssues(req.tickets));
    if (issues.length > 0) throw new InvalidRequest(issues);
    const access = await this.access(caller, transactionId);
    let tx: TransactionState;
    if (req.status === 'checkout') {
      tx = await this.store.extend(access, req.tickets);
    } else {
      const read = await this.fence?.read(access.performanceId);
      const completion: Completion = { customer: req.customer, paymentReference: req.payment_reference, minSequence: read?.minSequence };
      tx = await this.store.complete(access, req.tickets, completion);
      if (read) this.fence?.confirm(access.performanceId, read);
    }
    return transactionView(tx, caller);
  }

  async get(caller: Caller, transactionId: string): Promise<TransactionView> {
    return transactionView(await this.store.readTransaction(await this.access(caller, transactionId)), caller);
  }

  /** Releases every lock the transaction still holds; releasing twice is fine, a completed one is not. */
  async release(caller: Caller, transactionId: string): Promise<TransactionView> {
    return transactionView(await this.store.release(await this.access(caller, transactionId)), caller);
  }

  private async access(caller: Caller, transactionId: string) {
    const performanceId = await this.store.transactionPerformance(transactionId);
    if (performanceId === undefined) throw transactionNotFound();
    return { caller, transactionId, performanceId };
  }
}

function distinctIssues(ids: readonly string[]): Issue[] {
  const issues: Issue[] = [];
  if (ids.length === 0) issues.push({ path: 'tickets', message: 'must list at least one ticket' });
  const seen = new Set<string>();
  const dup = ids.filter((id) => seen.size === seen.add(id).size);
  if (dup.length > 0) issues.push({ path: 'tickets', message: `listed more than once: ${[...new Set(dup)].join(', ')}` });
  return issues;
}
