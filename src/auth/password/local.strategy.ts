import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import { Strategy } from 'passport-local';
import { clientContextOf } from '../../common/index.js';
import type { User } from '../../users/user.entity.js';
import { invalidCredentials } from '../auth-errors.js';
import type { LoginDto } from '../dto/login.dto.js';
import { PasswordLoginService } from './password-login.service.js';

/** Checks email + password; same error (and about the same time) for an unknown email and a wrong password. */
@Injectable()
export class LocalStrategy extends PassportStrategy(Strategy) {
  constructor(private readonly passwordLogin: PasswordLoginService) {
    super({ usernameField: 'email', passwordField: 'password', session: false, passReqToCallback: true });
  }

  async validate(request: FastifyRequest, email: string, password: string): Promise<User> {
    const { deviceToken } = request.body as LoginDto;
    const user = await this.passwordLogin.check(email, password, clientContextOf(request), deviceToken);
    if (!user) throw invalidCredentials();
    return user;
  }
}
