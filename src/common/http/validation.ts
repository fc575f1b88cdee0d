import { ArgumentMetadata, HttpStatus, ValidationError, ValidationPipe } from '@nestjs/common';
import { ApiException } from '../errors/api.exception.js';
import { ErrorCode } from '../errors/error-codes.js';

function flatten(errors: ValidationError[], prefix = ''): string[] {
  return errors.flatMap((error) => {
    const field = prefix ? `${prefix}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((m) =>
      m.startsWith(error.property) ? `${field}${m.slice(error.property.length)}` : `${field}: ${m}`,
    );
    return [...own, ...flatten(error.children ?? [], field)];
  });
}

/** Turns class-validator errors into `400 VALIDATION_FAILED` whose `message` lists each field's problem. */
export function validationException(errors: ValidationError[]): ApiException {
  return new ApiException(HttpStatus.BAD_REQUEST, ErrorCode.VALIDATION_FAILED, flatten(errors));
}

/** Request bodies here are flat objects; anything nested deeper is refused before it is walked. */
const MAX_DEPTH = 8;
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * The first reason `value` is not an acceptable input shape, walked without recursion: too deep (a
 * recursive transformer would overflow the stack: a 500), a prototype-ish key (Nest would silently drop it
 * instead of refusing it as an unknown field), or a string that is not well-formed Unicode (lone surrogates
 * break encodeURI-based validators).
 */
export function inputShapeProblem(value: unknown): string | undefined {
  const stack: { node: unknown; depth: number; path: string }[] = [{ node: value, depth: 0, path: '' }];
  while (stack.length) {
    const { node, depth, path } = stack.pop()!;
    if (typeof node === 'string') {
      if (LONE_SURROGATE.test(node)) return `${path || 'body'} must be well-formed Unicode text`;
      continue;
    }
    if (typeof node !== 'object' || node === null) continue;
    if (depth >= MAX_DEPTH) return `${path || 'body'} is nested too deeply`;
    for (const [key, child] of Object.entries(node)) {
      if (FORBIDDEN_KEYS.has(key)) return `property ${key} should not exist`;
      stack.push({ node: child, depth: depth + 1, path: path ? `${path}.${key}` : key });
    }
  }
  return undefined;
}

/** ValidationPipe that first refuses input shapes no DTO here can take (see `inputShapeProblem`). */
class StrictValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const problem = metadata.type === 'custom' ? undefined : inputShapeProblem(value);
    if (problem) throw new ApiException(HttpStatus.BAD_REQUEST, ErrorCode.VALIDATION_FAILED, [problem]);
    return super.transform(value, metadata);
  }
}

/** The global pipe (also used by `LocalAuthGuard`, which must validate before passport runs). */
export function createValidationPipe(): ValidationPipe {
  return new StrictValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    forbidUnknownValues: true,
    stopAtFirstError: true,
    exceptionFactory: validationException,
  });
}
