/**
 * The config kernel. Each module owns a slice beside its code (`sms/sms.config.ts`): a loader that reads
 * its variables from `Env` (validating each where it is read, so a variable is written in one place), and
 * an abstract class of the same name used as its DI token, whose shape is the loader's result:
 *
 * ```ts
 * export function loadOrdersConfig(env: Env) {
 *   return { pageSize: env.read('ORDERS_PAGE_SIZE', int(50, 1, 500)) };
 * }
 * export abstract class OrdersConfig {}
 * export interface OrdersConfig extends ReturnType<typeof loadOrdersConfig> {}
 * ```
 * `src/app-config.ts` composes the slices (`loadConfig(env)`) and provides each one.
 */
export { ConfigError, duplicateKeys, entries, Env, int, list, optionalString } from './env.js';
