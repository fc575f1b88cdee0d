import { Param, type PipeTransform } from '@nestjs/common';
import { notFound } from '../errors/errors.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}

class UuidOrNotFound implements PipeTransform<string, string> {
  constructor(private readonly message: string) {}

  transform(value: string): string {
    if (!isUuid(value)) throw notFound(this.message);
    return value.toLowerCase();
  }
}

/**
 * A path parameter holding a UUID: anything else is `404 NOT_FOUND` with `message`, the same answer as an id
 * that is not the caller's (`@IdParam('id', 'No such session') id: string`).
 */
export const IdParam = (name: string, message = 'Not found') => Param(name, new UuidOrNotFound(message));
