import { Injectable } from '@nestjs/common';
import { AuditService } from '../../audit/audit.service.js';
import { type ClientContext, type FullPrincipal, validationFailed } from '../../common/index.js';
import { UsersService } from '../../users/users.service.js';
import { invalidCredentials, unauthenticated } from '../auth-errors.js';
import { LoginFailuresService } from '../password/login-failures.service.js';
import { passwordProblem } from '../password/password-policy.js';
import { PasswordService } from '../password/password.service.js';
import { AccountSecurity } from './account-security.service.js';

/**
 * `POST /users/me/password`: the current password proves the caller (a wrong one counts toward the
 * account's login-failure limits, like a failed login), the new one passes the password policy, and every
 * other session and remembered device ends; the current session stays.
 */
@Injectable()
export class PasswordChangeService {
  constructor(
    private readonly users: UsersService,
    private readonly passwords: PasswordService,
    private readonly failures: LoginFailuresService,
    private readonly security: AccountSecurity,
    private readonly audit: AuditService,
  ) {}

  async change(me: FullPrincipal, current: string, next: string, client: ClientContext): Promise<void> {
    const user = await this.users.findById(me.userId);
    if (!user) throw unauthenticated(true);
    await this.failures.reserve(user.email, client, user.id);
    if (!(await this.passwords.verify(user.passwordHash, current))) {
      await this.audit.record('login_failed', client, user.id, { reason: 'password_change' });
      throw invalidCredentials();
    }
    await this.failures.succeeded(user.email);
    const problem = passwordProblem(next, user);
    if (problem) throw validationFailed(problem);
    await this.users.setPasswordHash(user.id, await this.passwords.hash(next));
    const forgotten = await this.security.credentialsChanged(user.id, me.sessionId, 'password_changed');
    await this.audit.record('password_changed', client, user.id);
    await this.security.recordForgotten(client, user.id, 'password_changed', forgotten);
  }
}
