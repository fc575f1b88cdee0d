import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { PassportModule } from '@nestjs/passport';
import { TypeOrmModule } from '@nestjs/typeorm';
import { SmsDeliveryModule } from '../sms/sms-delivery.module.js';
import { SmsModule } from '../sms/sms.module.js';
import { UsersModule } from '../users/users.module.js';
import { AuthKeys } from './auth-keys.js';
import { AuthController } from './auth.controller.js';
import { AuthService } from './auth.service.js';
import { JwtAuthGuard } from './guards/jwt-auth.guard.js';
import { LoginAttempt } from './second-factor/login-attempt.entity.js';
import { LoginAttemptsService } from './second-factor/login-attempts.service.js';
import { PasswordService } from './password/password.service.js';
import { PinService } from './second-factor/pin.service.js';
import { RefreshToken } from './sessions/refresh-token.entity.js';
import { Session } from './sessions/session.entity.js';
import { SessionsService } from './sessions/sessions.service.js';
import { LocalStrategy } from './password/local.strategy.js';
import { TokensService } from './sessions/tokens.service.js';

/**
 * Login, second factor, sessions, and the global guard that protects every route of every module.
 * Other modules need nothing from here but the decorators (`@Public()`, `@CurrentUser()`).
 */
@Module({
  imports: [
    TypeOrmModule.forFeature([LoginAttempt, Session, RefreshToken]),
    PassportModule,
    JwtModule.register({}),
    UsersModule,
    SmsModule,
    SmsDeliveryModule,
  ],
  controllers: [AuthController],
  providers: [
    AuthKeys,
    AuthService,
    LoginAttemptsService,
    PasswordService,
    PinService,
    SessionsService,
    TokensService,
    LocalStrategy,
    JwtAuthGuard,
    { provide: APP_GUARD, useExisting: JwtAuthGuard },
  ],
  exports: [TokensService, SessionsService],
})
export class AuthModule {}
