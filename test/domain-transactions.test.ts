// TransactionService (src/domain/transactions.ts) called directly, as the HTTP layer never calls it: the HTTP schema
// (src/http/schemas.ts) lets no begin through with neither tickets nor performance_id + quantity, so the service's own
// answer to one is seen only here. Real Redis.
import { TransactionService } from '../src/domain/transactions';
import { callerOf, useTestApp } from './support/app';

const t = useTestApp();

test('begin with neither tickets nor a best-available query: 400 INVALID_REQUEST, tickets must list one', async () => {
  const service = new TransactionService(t.store, t.config.domain);
  await expect(service.begin(callerOf('alice'), {})).rejects.toMatchObject({
    code: 'INVALID_REQUEST',
    details: { issues: [{ path: 'tickets', message: 'must list at least one ticket' }] },
  });
});
