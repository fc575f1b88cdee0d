import { Body, Controller, HttpCode, HttpStatus, Post } from '@nestjs/common';
import { Client, type ClientContext, CurrentUser, type FullPrincipal } from '../../common/index.js';
import type { ChallengeResponse, SessionResponse } from '../dto/auth-responses.js';
import { VerifyPinDto } from '../second-factor/dto/verify-pin.dto.js';
import { StepUpService } from './step-up.service.js';

/** A PIN again, for a session about to do something sensitive (`@RequireRecentSecondFactor`). */
@Controller('auth/step-up')
export class StepUpController {
  constructor(private readonly stepUp: StepUpService) {}

  /** Sends a PIN to the account's phone: `200 {challenge}` (the login challenge's shape). */
  @Post()
  @HttpCode(HttpStatus.OK)
  start(
    @CurrentUser() me: FullPrincipal,
    @Client() client: ClientContext,
  ): Promise<{ challenge: ChallengeResponse['challenge'] }> {
    return this.stepUp.start(me, client);
  }

  @Post('resend')
  @HttpCode(HttpStatus.OK)
  resend(
    @CurrentUser() me: FullPrincipal,
    @Client() client: ClientContext,
  ): Promise<{ challenge: ChallengeResponse['challenge'] }> {
    return this.stepUp.resend(me, client);
  }

  /** The PIN: the same session, with new tokens whose second factor (and `auth_time`) are now. */
  @Post('verify')
  @HttpCode(HttpStatus.OK)
  verify(
    @CurrentUser() me: FullPrincipal,
    @Body() dto: VerifyPinDto,
    @Client() client: ClientContext,
  ): Promise<SessionResponse> {
    return this.stepUp.verify(me, dto.pin, client);
  }
}
