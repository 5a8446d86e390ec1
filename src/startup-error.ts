// The one error type for "tixlock cannot start (or run this command) as configured": a misconfiguration, a missing
// redis-server, Redis unreachable, workers dying during start-up. The CLI prints its one-line message and exits 1,
// without a stack: the message is for the operator and says what to change.
export class StartupError extends Error {
  override readonly name: string = 'StartupError';
}
