import type { LoggerService } from '@nestjs/common';
import { correlationScope } from './correlation-context.js';

type Level = 'error' | 'warn' | 'info' | 'debug' | 'verbose' | 'fatal';

/**
 * Structured logs: one JSON object per line on stdout (errors on stderr) with the time, level,
 * service, context, message and the current correlation id (plus `runId` and `leaseId` within a
 * settlement run), so that an operator can follow one order from its HTTP request through Kafka
 * to its settlement (`grep <id>` across services' logs; docs/architecture.md).
 */
export class JsonLogger implements LoggerService {
  constructor(
    private readonly service = 'market-api',
    private readonly write: (line: string, level: Level) => void = (line, level) =>
      (level === 'error' || level === 'fatal' ? process.stderr : process.stdout).write(line + '\n'),
  ) {}

  log(message: unknown, ...rest: unknown[]): void {
    this.emit('info', message, rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.emit('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.emit('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.emit('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.emit('verbose', message, rest);
  }
  fatal(message: unknown, ...rest: unknown[]): void {
    this.emit('fatal', message, rest);
  }

  private emit(level: Level, message: unknown, rest: unknown[]): void {
    // Nest passes the context last (and, for errors, a stack before it).
    const context = typeof rest[rest.length - 1] === 'string' ? rest.pop() : undefined;
    const stack = level === 'error' && typeof rest[0] === 'string' ? rest[0] : undefined;
    const entry: Record<string, unknown> = {
      at: new Date().toISOString(),
      level,
      service: this.service,
      ...(context ? { context } : {}),
      msg: message instanceof Error ? message.message : message,
    };
    // correlationId, and within a job run its runId and the lease it works on.
    Object.assign(entry, correlationScope());
    if (stack) entry.stack = stack;
    this.write(JSON.stringify(entry), level);
  }
}
