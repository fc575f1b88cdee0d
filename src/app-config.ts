import { type DynamicModule, Module, type Provider } from '@nestjs/common';
import { AuditConfig, loadAuditConfig } from './audit/audit.config.js';
import { DevicesConfig, loadDevicesConfig } from './auth/devices/devices.config.js';
import { loadLoginConfig, LoginConfig } from './auth/password/login.config.js';
import { loadRegistrationConfig, RegistrationConfig } from './auth/registration/registration.config.js';
import { PIN_SMS_LOCALES } from './auth/second-factor/pin-message.js';
import { loadPinConfig, PinConfig } from './auth/second-factor/pin.config.js';
import { JwtConfig, loadJwtConfig } from './auth/sessions/jwt.config.js';
import { loadStepUpConfig, StepUpConfig } from './auth/step-up/step-up.config.js';
import { HttpConfig, loadHttpConfig } from './common/http/http.config.js';
import { ServerKeys, ServerSecret } from './common/index.js';
import { Env } from './config/index.js';
import { DatabaseConfig, loadDatabaseConfig } from './database/database.config.js';
import { FraudGuardConfig, loadFraudGuardConfig } from './phone/fraud-guard.config.js';
import { loadPhoneConfig, PhoneConfig } from './phone/phone.config.js';
import { loadSmsConfig, SmsConfig } from './sms/sms.config.js';

export { ConfigError } from './config/index.js';

/** The whole configuration: one slice per module, each read by the module that owns it. */
export interface AppConfig {
  nodeEnv: Env['nodeEnv'];
  /** What the boot log should say: accepted unsafe settings, explicit opt-outs. */
  warnings: string[];
  http: HttpConfig;
  database: DatabaseConfig;
  audit: AuditConfig;
  jwt: JwtConfig;
  stepUp: StepUpConfig;
  devices: DevicesConfig;
  login: LoginConfig;
  registration: RegistrationConfig;
  pin: PinConfig;
  phone: PhoneConfig;
  fraudGuard: FraudGuardConfig;
  sms: SmsConfig;
}

/**
 * Validates the environment once at boot and returns the typed configuration, or throws a `ConfigError`
 * naming every variable that is wrong. Nothing else in the code reads `process.env`. `generateSecret` is
 * only used outside production when `JWT_SECRET` is unset.
 */
export function loadConfig(
  vars: Readonly<Record<string, string | undefined>>,
  generateSecret?: () => string,
): AppConfig {
  const env = new Env(vars);
  const pin = loadPinConfig(env);
  const jwt = loadJwtConfig(env, generateSecret);
  const config: AppConfig = {
    nodeEnv: env.nodeEnv,
    warnings: env.warnings,
    http: loadHttpConfig(env),
    database: loadDatabaseConfig(env),
    audit: loadAuditConfig(env),
    jwt,
    stepUp: loadStepUpConfig(env),
    devices: loadDevicesConfig(env),
    login: loadLoginConfig(env),
    registration: loadRegistrationConfig(env),
    pin,
    phone: loadPhoneConfig(env),
    fraudGuard: loadFraudGuardConfig(env),
    sms: loadSmsConfig(env, {
      pinLength: env.valid('PIN_LENGTH') ? pin.length : undefined,
      pinLocales: PIN_SMS_LOCALES,
    }),
  };
  // Checks across slices.
  if (pin.ttlSeconds > jwt.partialTokenTtlSeconds) {
    env.problem('PIN_TTL_SECONDS', 'must not exceed PARTIAL_TOKEN_TTL_SECONDS');
  }
  env.assertValid();
  return config;
}

@Module({})
class AppConfigModule {}

/**
 * Each slice injectable by its class (`constructor(private readonly sms: SmsConfig)`), everywhere; and the
 * keys derived from the root secret (`ServerKeys`), whose one source is JWT_SECRET in the JWT slice.
 */
export function configModule(config: AppConfig): DynamicModule {
  const secret: ServerSecret = { secret: config.jwt.secret };
  const providers: Provider[] = [
    { provide: ServerSecret, useValue: secret },
    { provide: ServerKeys, useClass: ServerKeys },
    { provide: HttpConfig, useValue: config.http },
    { provide: DatabaseConfig, useValue: config.database },
    { provide: AuditConfig, useValue: config.audit },
    { provide: JwtConfig, useValue: config.jwt },
    { provide: StepUpConfig, useValue: config.stepUp },
    { provide: DevicesConfig, useValue: config.devices },
    { provide: LoginConfig, useValue: config.login },
    { provide: RegistrationConfig, useValue: config.registration },
    { provide: PinConfig, useValue: config.pin },
    { provide: PhoneConfig, useValue: config.phone },
    { provide: FraudGuardConfig, useValue: config.fraudGuard },
    { provide: SmsConfig, useValue: config.sms },
  ];
  return {
    module: AppConfigModule,
    global: true,
    providers,
    exports: providers.map((p) => (p as { provide: unknown }).provide as never),
  };
}
