import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { PassportModule } from '@nestjs/passport';
import { TypeOrmModule } from '@nestjs/typeorm';
import { PhoneModule } from '../phone/phone.module.js';
import { SmsModule } from '../sms/sms.module.js';
import { UsersModule } from '../users/users.module.js';
import { AccountDeletionService } from './account/account-deletion.service.js';
import { AccountSecurity } from './account/account-security.service.js';
import { AccountController } from './account/account.controller.js';
import { PasswordChangeService } from './account/password-change.service.js';
import { PhoneChangeService } from './account/phone-change.service.js';
import { AuthKeys } from './auth-keys.js';
import { AuthResponses } from './auth-responses.js';
import { AuthRetention } from './auth.retention.js';
import { AuthController } from './auth.controller.js';
import { AuthService } from './auth.service.js';
import { DevicesController } from './devices/devices.controller.js';
import { TrustedDevice } from './devices/trusted-device.entity.js';
import { TrustedDevicesService } from './devices/trusted-devices.service.js';
import { RegistrationService } from './registration/registration.service.js';
import { JwtAuthGuard } from './guards/jwt-auth.guard.js';
import { LocalStrategy } from './password/local.strategy.js';
import { LoginFailure } from './password/login-failure.entity.js';
import { LoginFailuresService } from './password/login-failures.service.js';
import { PasswordLoginService } from './password/password-login.service.js';
import { PasswordService } from './password/password.service.js';
import { LoginAttempt } from './second-factor/login-attempt.entity.js';
import { LoginAttemptsService } from './second-factor/login-attempts.service.js';
import { PinDeliveryService } from './second-factor/pin-delivery.service.js';
import { PinService } from './second-factor/pin.service.js';
import { SecondFactorFailure } from './second-factor/second-factor-failure.entity.js';
import { SecondFactorLockService } from './second-factor/second-factor-lock.service.js';
import { SecondFactorController } from './second-factor/second-factor.controller.js';
import { SecondFactorService } from './second-factor/second-factor.service.js';
import { RefreshRotationService } from './sessions/refresh-rotation.service.js';
import { RefreshToken } from './sessions/refresh-token.entity.js';
import { Session } from './sessions/session.entity.js';
import { SessionsAdminService } from './sessions/sessions-admin.service.js';
import { SessionsController } from './sessions/sessions.controller.js';
import { SessionsService } from './sessions/sessions.service.js';
import { StepUpController } from './step-up/step-up.controller.js';
import { StepUpService } from './step-up/step-up.service.js';
import { TokensService } from './sessions/tokens.service.js';

export const AUTH_ENTITIES = [
  LoginAttempt,
  Session,
  RefreshToken,
  LoginFailure,
  SecondFactorFailure,
  TrustedDevice,
];

/**
 * Login (password → partial token + PIN → full session), sessions, and the global guard that protects
 * every route of every module. Other modules need nothing from here: the decorators and principals they
 * use are the access contract in `src/common`.
 */
@Module({
  imports: [
    TypeOrmModule.forFeature(AUTH_ENTITIES),
    PassportModule,
    JwtModule.register({}),
    UsersModule,
    SmsModule,
    PhoneModule,
  ],
  controllers: [
    AuthController,
    SecondFactorController,
    SessionsController,
    StepUpController,
    AccountController,
    DevicesController,
  ],
  providers: [
    AccountDeletionService,
    AccountSecurity,
    PasswordChangeService,
    PhoneChangeService,
    AuthKeys,
    AuthResponses,
    AuthRetention,
    AuthService,
    PasswordService,
    PasswordLoginService,
    LoginFailuresService,
    LocalStrategy,
    LoginAttemptsService,
    PinService,
    PinDeliveryService,
    SecondFactorService,
    SecondFactorLockService,
    RegistrationService,
    RefreshRotationService,
    SessionsService,
    SessionsAdminService,
    StepUpService,
    TokensService,
    TrustedDevicesService,
    JwtAuthGuard,
    { provide: APP_GUARD, useExisting: JwtAuthGuard },
  ],
})
export class AuthModule {}
