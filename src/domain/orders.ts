// Orders and people, as the order writer persisted them in the document store.
import { AppError } from '../errors';
import type { DocumentStore, OrderDoc, PersonDoc } from './documents';
import type { Caller } from './types';

export class OrderService {
  constructor(private readonly documents: DocumentStore) {}

  /** An order, for an admin or the client that completed it; anyone else is told it does not exist. */
  async getOrder(caller: Caller, orderNumber: string): Promise<OrderDoc> {
    const order = await this.documents.getOrder(orderNumber);
    if (!order || (caller.role !== 'admin' && order.client !== caller.name)) {
      throw new AppError('ORDER_NOT_FOUND', 'No such order (or it is not persisted yet).');
    }
    return order;
  }

  async getPerson(email: string): Promise<PersonDoc> {
    const person = await this.documents.getPerson(email);
    if (!person) throw new AppError('PERSON_NOT_FOUND', 'No person with that email.');
    return person;
  }
}
