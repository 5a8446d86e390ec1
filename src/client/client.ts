// TixlockClient: one typed method per endpoint of the API. Each builds its route and unwraps the success body;
// transport.ts does the sending, retrying and error mapping.
import { send, type AttemptEvent, type CallOptions, type Route, type TransportSettings } from './transport';
import type {
  CheckoutOptions,
  CompletedTransaction,
  CompleteOptions,
  HoldBestRequest,
  HoldOptions,
  Order,
  Performance,
  PerformanceBody,
  PerformanceUpsert,
  Person,
  Readiness,
  SearchQuery,
  Ticket,
  TicketPage,
  TicketPageQuery,
  Transaction,
  TransactionHead,
  TransactionStatus,
} from './types';

export interface ClientOptions {
  /** where tixlock answers, e.g. https://tixlock.example (a path prefix is kept) */
  baseUrl: string;
  /** a client or admin key (sent as Authorization: Bearer); none for /healthz and /readyz only */
  apiKey?: string;
  /** the longest one call may take, retries included (default 10,000 ms) */
  timeoutMs?: number;
  /** attempts after the first for a 503, a 429 with Retry-After, or no connection (default 2; 0 = never retry) */
  retries?: number;
  /** a longer Retry-After is not waited for: the error goes to the caller (default 5,000 ms) */
  maxRetryWaitMs?: number;
  /** first back-off when the server names no Retry-After; doubles per attempt (default 200 ms) */
  retryDelayMs?: number;
  /**
   * Send an Idempotency-Key on holds, checkouts and completes (default true). Without one those calls are never
   * retried: a repeat could hold or sell twice.
   */
  idempotencyKeys?: boolean;
  /** called after every attempt (status 0 = no answer): for logs and metrics */
  onAttempt?: (event: AttemptEvent<Operation>) => void;
}

const DEFAULTS = { timeoutMs: 10_000, retries: 2, maxRetryWaitMs: 5_000, retryDelayMs: 200, idempotencyKeys: true };

type Ok<T> = T & { status: 'OK' };
const seg = encodeURIComponent;

/** Drops the success body's `status: "OK"`, leaving the object the endpoint answers with. */
function withoutStatus<T extends object>(body: Ok<T>): T {
  const { status: _ok, ...rest } = body;
  return rest as unknown as T;
}

function queryString(query: Record<string, string | number | undefined>): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value !== undefined) params.set(name, String(value));
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

export class TixlockClient {
  private readonly settings: TransportSettings<Operation>;

  constructor(options: ClientOptions) {
    this.settings = {
      baseUrl: options.baseUrl,
      apiKey: options.apiKey,
      timeoutMs: options.timeoutMs ?? DEFAULTS.timeoutMs,
      retries: options.retries ?? DEFAULTS.retries,
      maxRetryWaitMs: options.maxRetryWaitMs ?? DEFAULTS.maxRetryWaitMs,
      retryDelayMs: options.retryDelayMs ?? DEFAULTS.retryDelayMs,
      idempotencyKeys: options.idempotencyKeys ?? DEFAULTS.idempotencyKeys,
      onAttempt: options.onAttempt,
    };
  }

  private async body<T>(route: Route<Operation>, options: CallOptions | undefined): Promise<Ok<T>> {
    return (await send(this.settings, route, options)).body as Ok<T>;
  }

  private read<T>(operation: Operation, path: string, options: CallOptions | undefined): Promise<Ok<T>> {
    return this.body<T>({ operation, method: 'GET', path, idempotent: true, keyed: false }, options);
  }

  // ---- inventory (admin)

  /** PUT /performances/{id}: creates a performance or adds to it (at most 50,000 tickets per call). */
  async putPerformance(performanceId: string, body: PerformanceBody, options?: CallOptions): Promise<PerformanceUpsert> {
    // an upsert: repeating it leaves the same inventory, so it is safe to retry
    const route: Route<Operation> = { operation: 'putPerformance', method: 'PUT', path: `/performances/${seg(performanceId)}`, body, idempotent: true, keyed: false };
    return (await this.body<{ performance: PerformanceUpsert }>(route, options)).performance;
  }

  /** GET /performances/{id}: settings, lifecycle and live counts (an archived one's from the document store). */
  async getPerformance(performanceId: string, options?: CallOptions): Promise<Performance> {
    return (await this.read<{ performance: Performance }>('getPerformance', `/performances/${seg(performanceId)}`, options)).performance;
  }

  /** POST /performances/{id}/close: no new holds from now on (closing again answers the same). */
  async closePerformance(performanceId: string, options?: CallOptions): Promise<Performance> {
    // closing twice changes nothing: safe to retry
    const route: Route<Operation> = { operation: 'closePerformance', method: 'POST', path: `/performances/${seg(performanceId)}/close`, idempotent: true, keyed: false };
    return (await this.body<{ performance: Performance }>(route, options)).performance;
  }

  /** GET /performances/{id}/tickets: one page; pass `next_cursor` as `cursor` for the next. */
  async listTickets(performanceId: string, query: TicketPageQuery = {}, options?: CallOptions): Promise<TicketPage> {
    const path = `/performances/${seg(performanceId)}/tickets${queryString(query)}`;
    return withoutStatus(await this.read<TicketPage>('listTickets', path, options));
  }

  // ---- tickets

  /** GET /tickets: the best available tickets (locks nothing); 409 NOT_ENOUGH_TICKETS with `available`. */
  async searchTickets(query: SearchQuery, options?: CallOptions): Promise<Ticket[]> {
    return (await this.read<{ tickets: Ticket[] }>('searchTickets', `/tickets${queryString(query)}`, options)).tickets;
  }

  /** GET /tickets/{id} */
  async getTicket(ticketId: string, options?: CallOptions): Promise<Ticket> {
    return (await this.read<{ ticket: Ticket }>('getTicket', `/tickets/${seg(ticketId)}`, options)).ticket;
  }

  // ---- transactions

  /** POST /transaction with ticket ids: locks them all or none (409 TICKETS_UNAVAILABLE). */
  holdTickets(tickets: readonly string[], hold: HoldOptions = {}, options?: CallOptions): Promise<Transaction> {
    return this.begin('holdTickets', { ...hold, tickets }, options);
  }

  /** POST /transaction with performance_id and quantity: picks and locks the best available in one step. */
  holdBest(request: HoldBestRequest, options?: CallOptions): Promise<Transaction> {
    return this.begin('holdBest', request, options);
  }

  private async begin(operation: Operation, body: object, options: CallOptions | undefined): Promise<Transaction> {
    const route: Route<Operation> = { operation, method: 'POST', path: '/transaction', body, idempotent: false, keyed: true };
    return withoutStatus(await this.body<Transaction>(route, options));
  }

  /** PUT /transaction/{id} status checkout: extends the hold to now + the hold time (capped by MAX_HOLD_SECONDS). */
  checkout(transactionId: string, checkout: CheckoutOptions = {}, options?: CallOptions): Promise<Transaction> {
    return this.update('checkout', transactionId, { ...checkout, status: 'checkout' }, options);
  }

  /** PUT /transaction/{id} status complete: sells the tickets; the answer has the order number. */
  async complete(transactionId: string, sale: CompleteOptions = {}, options?: CallOptions): Promise<CompletedTransaction> {
    return (await this.update('complete', transactionId, { ...sale, status: 'complete' }, options)) as CompletedTransaction;
  }

  private async update(operation: Operation, transactionId: string, body: object, options: CallOptions | undefined): Promise<Transaction> {
    const route: Route<Operation> = { operation, method: 'PUT', path: `/transaction/${seg(transactionId)}`, body, idempotent: false, keyed: true };
    return withoutStatus(await this.body<Transaction>(route, options));
  }

  /** GET /transaction/{id} */
  async getTransaction(transactionId: string, options?: CallOptions): Promise<Transaction> {
    return withoutStatus(await this.read<Transaction>('getTransaction', `/transaction/${seg(transactionId)}`, options));
  }

  /** HEAD /transaction/{id}: status and lock expiry without a body (a failure has code HTTP_ERROR: HEAD has no body). */
  async headTransaction(transactionId: string, options?: CallOptions): Promise<TransactionHead> {
    const route: Route<Operation> = { operation: 'headTransaction', method: 'HEAD', path: `/transaction/${seg(transactionId)}`, idempotent: true, keyed: false };
    const { headers } = await send(this.settings, route, options);
    const lockExpires = headers.get('lock-expires');
    return {
      transaction_status: headers.get('transaction-status') as TransactionStatus,
      ...(lockExpires === null ? {} : { lock_expires: lockExpires }),
    };
  }

  /** DELETE /transaction/{id}: releases every lock; releasing twice is fine (so it is retried). */
  async release(transactionId: string, options?: CallOptions): Promise<Transaction> {
    const route: Route<Operation> = { operation: 'release', method: 'DELETE', path: `/transaction/${seg(transactionId)}`, idempotent: true, keyed: false };
    return withoutStatus(await this.body<Transaction>(route, options));
  }

  // ---- orders and people

  /** GET /orders/{n}: 404 ORDER_NOT_FOUND until the order writer has persisted it. */
  async getOrder(orderNumber: string, options?: CallOptions): Promise<Order> {
    return (await this.read<{ order: Order }>('getOrder', `/orders/${seg(orderNumber)}`, options)).order;
  }

  /** GET /people?email= (admin) */
  async getPerson(email: string, options?: CallOptions): Promise<Person> {
    return (await this.read<{ person: Person }>('getPerson', `/people${queryString({ email })}`, options)).person;
  }

  // ---- operations

  /** GET /healthz: resolves while the process runs. */
  async health(options?: CallOptions): Promise<void> {
    await this.read('health', '/healthz', options);
  }

  /** GET /readyz: resolves when Redis and the document store answer; else 503 UNAVAILABLE with `checks` in details. */
  async ready(options?: CallOptions): Promise<Readiness> {
    // a readiness probe reports the state now: no retries unless asked
    return withoutStatus(await this.read<Readiness>('ready', '/readyz', { retries: 0, ...options }));
  }
}

/** The client's operations (its methods), as AttemptEvent.operation names them. */
export type Operation = keyof TixlockClient;
