import { Body, Controller, Delete, HttpCode, HttpStatus, Post } from '@nestjs/common';
import {
  Client,
  type ClientContext,
  CurrentUser,
  type FullPrincipal,
  RequireRecentSecondFactor,
} from '../../common/index.js';
import type { MeResponse } from '../../users/users.controller.js';
import type { ChallengeResponse } from '../dto/auth-responses.js';
import { VerifyPinDto } from '../second-factor/dto/verify-pin.dto.js';
import { AccountDeletionService } from './account-deletion.service.js';
import { ChangePasswordDto } from './change-password.dto.js';
import { ChangePhoneDto } from './change-phone.dto.js';
import { PasswordChangeService } from './password-change.service.js';
import { PhoneChangeService } from './phone-change.service.js';

/** The account's own credentials: password, phone, deletion. */
@Controller('users/me')
export class AccountController {
  constructor(
    private readonly passwordChange: PasswordChangeService,
    private readonly phoneChange: PhoneChangeService,
    private readonly deletion: AccountDeletionService,
  ) {}

  /** Deletes the account (a recent second factor required): every token of it stops working at once. */
  @RequireRecentSecondFactor()
  @Delete()
  @HttpCode(HttpStatus.NO_CONTENT)
  async deleteAccount(@CurrentUser() me: FullPrincipal): Promise<void> {
    await this.deletion.delete(me);
  }

  @Post('password')
  @HttpCode(HttpStatus.NO_CONTENT)
  async changePassword(
    @CurrentUser() me: FullPrincipal,
    @Body() dto: ChangePasswordDto,
    @Client() client: ClientContext,
  ): Promise<void> {
    await this.passwordChange.change(me, dto.currentPassword, dto.newPassword, client);
  }

  /** A PIN to the new number (a recent second factor required); the number changes when it is verified. */
  @RequireRecentSecondFactor()
  @Post('phone')
  @HttpCode(HttpStatus.OK)
  changePhone(
    @CurrentUser() me: FullPrincipal,
    @Body() dto: ChangePhoneDto,
    @Client() client: ClientContext,
  ): Promise<{ challenge: ChallengeResponse['challenge'] }> {
    return this.phoneChange.start(me, dto.phone, client);
  }

  @Post('phone/resend')
  @HttpCode(HttpStatus.OK)
  resendPhonePin(
    @CurrentUser() me: FullPrincipal,
    @Client() client: ClientContext,
  ): Promise<{ challenge: ChallengeResponse['challenge'] }> {
    return this.phoneChange.resend(me, client);
  }

  @Post('phone/verify')
  @HttpCode(HttpStatus.OK)
  async verifyPhone(
    @CurrentUser() me: FullPrincipal,
    @Body() dto: VerifyPinDto,
    @Client() client: ClientContext,
  ): Promise<{ user: MeResponse }> {
    return { user: await this.phoneChange.verify(me, dto.pin, client) };
  }
}
