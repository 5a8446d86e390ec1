// The Redis clock as this process sees it, learned from script replies (scripts read Redis TIME), so that a call
// can carry a deadline in Redis time: a call that reaches a paused Redis after its caller gave up (and answered
// 503) then does nothing instead of acting for nobody.
export class RedisDeadlines {
  /** Redis clock minus this process's clock (ms); undefined until a reply told it. */
  private offsetMs: number | undefined;

  /** budgetMs: how long a caller waits for Redis (the command timeout); 0 = no deadlines. */
  constructor(private readonly budgetMs: number) {}

  /** A script reply's Redis time (ms), just received. */
  observe(redisNowMs: number): void {
    this.offsetMs = redisNowMs - Date.now();
  }

  /**
   * The Redis time after which a call sent now must not act: ¾ of the budget from now (the last quarter is for the
   * answer's way back). 0 = no deadline (none configured, or the Redis clock not known yet).
   */
  deadline(): number {
    if (this.budgetMs === 0 || this.offsetMs === undefined) return 0;
    return Math.round(Date.now() + this.offsetMs + this.budgetMs * 0.75);
  }
}
