// winston JSON logs; one root logger per process, child loggers carry request_id / transaction_id.
import winston from 'winston';

export type Logger = winston.Logger;

export function createLogger(level: string, stream?: NodeJS.WritableStream): Logger {
  const transport = stream
    ? new winston.transports.Stream({ stream })
    : new winston.transports.Console();
  return winston.createLogger({
    level: level === 'silent' ? 'error' : level,
    silent: level === 'silent',
    format: winston.format.combine(winston.format.timestamp(), winston.format.errors({ stack: true }), winston.format.json()),
    defaultMeta: { service: 'tixlock' },
    transports: [transport],
  });
}
