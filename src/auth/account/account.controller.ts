import { Body, Controller, HttpCode, HttpStatus, Post } from '@nestjs/common';
import { Client, type ClientContext, CurrentUser, type FullPrincipal } from '../../common/index.js';
import { ChangePasswordDto } from './change-password.dto.js';
import { PasswordChangeService } from './password-change.service.js';

/** The account's own credentials: password, phone, deletion. */
@Controller('users/me')
export class AccountController {
  constructor(private readonly passwordChange: PasswordChangeService) {}

  @Post('password')
  @HttpCode(HttpStatus.NO_CONTENT)
  async changePassword(
    @CurrentUser() me: FullPrincipal,
    @Body() dto: ChangePasswordDto,
    @Client() client: ClientContext,
  ): Promise<void> {
    await this.passwordChange.change(me, dto.currentPassword, dto.newPassword, client);
  }
}
