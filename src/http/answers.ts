// The bodies of successful answers: the domain's views in the envelope of the wire contract ("status": "OK").
// Routes type their answers with these, and the OpenAPI document describes them, so the two cannot part.
import { z } from 'zod';
import { OrderDoc, PersonDoc } from '../domain/documents';
import { PerformanceUpsertView, PerformanceView, TicketPageView, TicketView, TransactionView } from '../domain/views';

const ok = z.literal('OK');

export const TransactionAnswer = TransactionView.extend({ status: ok });
export type TransactionAnswer = z.output<typeof TransactionAnswer>;
export const PerformanceAnswer = z.object({ status: ok, performance: PerformanceView });
export type PerformanceAnswer = z.output<typeof PerformanceAnswer>;
export const PerformanceUpsertAnswer = z.object({ status: ok, performance: PerformanceUpsertView });
export type PerformanceUpsertAnswer = z.output<typeof PerformanceUpsertAnswer>;
export const TicketPageAnswer = TicketPageView.extend({ status: ok });
export type TicketPageAnswer = z.output<typeof TicketPageAnswer>;
export const TicketsAnswer = z.object({ status: ok, tickets: z.array(TicketView).describe('best first') });
export type TicketsAnswer = z.output<typeof TicketsAnswer>;
export const TicketAnswer = z.object({ status: ok, ticket: TicketView });
export type TicketAnswer = z.output<typeof TicketAnswer>;
export const OrderAnswer = z.object({ status: ok, order: OrderDoc });
export type OrderAnswer = z.output<typeof OrderAnswer>;
export const PersonAnswer = z.object({ status: ok, person: PersonDoc });
export type PersonAnswer = z.output<typeof PersonAnswer>;
export const HealthAnswer = z.object({ status: ok });
export type HealthAnswer = z.output<typeof HealthAnswer>;
export const ReadyAnswer = z.object({ status: ok, checks: z.record(z.string(), z.literal('ok')).describe('each backing service') });
export type ReadyAnswer = z.output<typeof ReadyAnswer>;
