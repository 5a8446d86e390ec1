// isConnectionFailure (src/store/postgres.ts): which errors mean "PostgreSQL cannot be reached or kept, retry later"
// (the store answers Unavailable) and which mean the server answered (a bug or a constraint: passed on as they are).
// A table of error shapes as pg and node's net module give them; duck-typed, so plain objects stand for errors.
import { isConnectionFailure } from '../src/store/postgres';

const CONNECTION_MESSAGE = 'Connection terminated unexpectedly';

describe('isConnectionFailure', () => {
  test.each<[string, unknown]>([
    ['undefined', undefined],
    ['null', null],
    ['a string naming a network code', 'ECONNREFUSED'],
    ['a string with a connection message', CONNECTION_MESSAGE],
    ['a number', 8006],
    ['an object with neither code nor message', {}],
  ])('not an error object (%s): false', (_what, err) => {
    expect(isConnectionFailure(err)).toBe(false);
  });

  test.each([
    'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EHOSTUNREACH', 'EHOSTDOWN',
    'ENETUNREACH', 'ENETDOWN', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE',
  ])('network code %s: true, whatever the message', (code) => {
    expect(isConnectionFailure({ code, message: 'no words about connections' })).toBe(true);
  });

  test.each([
    ['57P01', 'admin_shutdown'],
    ['57P02', 'crash_shutdown'],
    ['57P03', 'cannot_connect_now'],
    ['57014', 'query_canceled (statement_timeout)'],
    ['53300', 'too_many_connections'],
    ['55P03', 'lock_not_available'],
  ])('SQLSTATE %s (%s): true', (code) => {
    expect(isConnectionFailure({ code, message: 'the server says so' })).toBe(true);
  });

  test.each(['08000', '08003', '08006', '08001', '08P01'])('class 08 (connection exception) %s: true', (code) => {
    expect(isConnectionFailure({ code, message: 'the server says so' })).toBe(true);
  });

  test.each([
    ['23505', 'unique_violation'],
    ['42P01', 'undefined_table'],
    ['23080', "a SQLSTATE with 08 inside, not at the start"],
    ['22008', 'datetime_field_overflow: 08 at the end'],
  ])('another SQLSTATE %s (%s): false, even with a connection message', (code) => {
    expect(isConnectionFailure({ code, message: 'a fault' })).toBe(false);
    expect(isConnectionFailure({ code, message: CONNECTION_MESSAGE })).toBe(false);
  });

  test.each([
    ['X08', 'shorter than a SQLSTATE, 08 not at the start'],
    ['E23505', 'six characters'],
    ['2350', 'four characters'],
    ['23505X', 'a SQLSTATE then more'],
    ['x2350', 'lower case'],
    ['ERR_SOCKET_CLOSED', 'a node code not in the network list'],
  ])('a code that is no SQLSTATE (%s: %s): the message decides', (code) => {
    expect(isConnectionFailure({ code, message: 'a fault' })).toBe(false);
    expect(isConnectionFailure({ code, message: CONNECTION_MESSAGE })).toBe(true);
  });

  test.each([
    'Connection terminated unexpectedly',
    'timeout exceeded when trying to connect',
    'Query read timeout',
    'connection error',
    'Connection ended',
    'Client has encountered a connection error and is not queryable',
    'terminating connection due to administrator command',
  ])('no code, message %p: true', (message) => {
    expect(isConnectionFailure({ message })).toBe(true);
    expect(isConnectionFailure(new Error(message))).toBe(true);
  });

  test('no code and another message, a message that is no string, a code that is no string', () => {
    expect(isConnectionFailure(new Error('syntax error at or near "SELEC"'))).toBe(false);
    expect(isConnectionFailure({ message: ['Connection terminated'] })).toBe(false);
    expect(isConnectionFailure({ code: 42, message: 'a fault' })).toBe(false);
    expect(isConnectionFailure({ code: 42, message: CONNECTION_MESSAGE })).toBe(true);
    // a code that is no string is no SQLSTATE, even when it reads like one: the message decides
    expect(isConnectionFailure({ code: 23505, message: CONNECTION_MESSAGE })).toBe(true);
  });

  test('an AggregateError (a dual-stack connect): true when any of its errors is a connection failure', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED ::1:5432'), { code: 'ECONNREFUSED' });
    const other = Object.assign(new Error('duplicate key'), { code: '23505' });
    expect(isConnectionFailure(new AggregateError([other, refused], ''))).toBe(true);
    expect(isConnectionFailure(new AggregateError([refused, other], ''))).toBe(true);
    expect(isConnectionFailure({ errors: [refused] })).toBe(true);
  });

  test('an AggregateError none of whose errors is a connection failure: its own code and message decide', () => {
    const other = Object.assign(new Error('duplicate key'), { code: '23505' });
    expect(isConnectionFailure(new AggregateError([other, new Error('bad')], 'several'))).toBe(false);
    expect(isConnectionFailure({ errors: [] })).toBe(false);
    expect(isConnectionFailure({ errors: [null, 'ECONNREFUSED'] })).toBe(false);
    expect(isConnectionFailure({ errors: [other], code: 'ECONNRESET' })).toBe(true);
    expect(isConnectionFailure({ errors: 'ECONNREFUSED' })).toBe(false);
  });
});
