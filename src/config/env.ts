import { z } from 'zod';

/** Every problem found in the environment, reported at once (the boot stops with all of them). */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/**
 * The environment as the config slices read it. `read(name, schema)` validates one variable where it is
 * used; a bad value is recorded as a problem (`NAME: why`) and the variable's default is used in its place,
 * so every other check still runs and one boot reports everything. `loadConfig` throws once at the end.
 */
export class Env {
  readonly nodeEnv: 'development' | 'production' | 'test';
  /** Things the operator chose that the boot log should say (accepted unsafe settings, opt-outs). */
  readonly warnings: string[] = [];
  private readonly problems: string[] = [];
  private readonly invalid = new Set<string>();
  /** `UNSAFE_SETTINGS`: the weakening settings the operator accepts in production, by variable name. */
  private readonly acceptedUnsafe: Set<string>;

  constructor(private readonly vars: Readonly<Record<string, string | undefined>>) {
    this.nodeEnv = this.read(
      'NODE_ENV',
      z.enum(['development', 'production', 'test']).default('development'),
    );
    this.acceptedUnsafe = new Set(list(this.read('UNSAFE_SETTINGS', optionalString)));
  }

  get production(): boolean {
    return this.nodeEnv === 'production';
  }

  read<S extends z.ZodType>(name: string, schema: S): z.output<S> {
    const result = schema.safeParse(this.vars[name]);
    if (result.success) return result.data;
    this.invalid.add(name);
    for (const issue of result.error.issues) this.problem([name, ...issue.path].join('.'), issue.message);
    const fallback = schema.safeParse(undefined);
    return (fallback.success ? fallback.data : undefined) as z.output<S>;
  }

  /** Whether `name` was read and is well-formed (dependent checks skip a variable that is not). */
  valid(name: string): boolean {
    return !this.invalid.has(name);
  }

  problem(name: string, message: string): void {
    this.problems.push(`${name}: ${message}`);
  }

  /**
   * A setting that weakens a protection (`why`, e.g. "0 turns this limit off"). In production it is refused
   * unless `UNSAFE_SETTINGS` names the variable, and then it is logged as a warning at boot.
   */
  unsafe(name: string, weakened: boolean, why: string): void {
    if (!weakened || !this.production) return;
    if (this.acceptedUnsafe.has(name)) this.warnings.push(`${name}: ${why} (accepted in UNSAFE_SETTINGS)`);
    else {
      this.problem(
        name,
        `${why}: unsafe with NODE_ENV=production; to accept it, list ${name} in UNSAFE_SETTINGS`,
      );
    }
  }

  /** A limit (`0` turns it off, which is an unsafe setting in production). */
  limit(name: string, def: number, max: number): number {
    const value = this.read(name, int(def, 0, max));
    this.unsafe(name, value === 0, '0 turns this limit off');
    return value;
  }

  /** @throws ConfigError naming every problem recorded so far. */
  assertValid(): void {
    if (this.problems.length) throw new ConfigError([...this.problems]);
  }
}

/** Unset and empty (`PORT=`) both mean "use the default". */
const blankToUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);

/** An integer in [min, max], `def` when unset or empty. */
export const int = (def: number, min: number, max: number) =>
  z.preprocess(blankToUndefined, z.coerce.number().int().min(min).max(max).default(def));

/** A trimmed string; unset and blank are `undefined`. */
export const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

/** A comma-separated list, trimmed, without empty entries. */
export function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
}

/** `key:value,key:value` as entries, in order (duplicates kept, see `duplicateKeys`). */
export function entries(value: string | undefined): [string, string][] {
  return list(value).map((pair) => {
    const at = pair.indexOf(':');
    return [pair.slice(0, at), pair.slice(at + 1)];
  });
}

/** The keys listed more than once in `key:value,...`. */
export function duplicateKeys(value: string | undefined): string[] {
  const keys = entries(value).map(([key]) => key);
  return [...new Set(keys.filter((key, i) => keys.indexOf(key) !== i))];
}
