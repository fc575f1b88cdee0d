import { Body, Controller, Get, HttpCode, HttpStatus, Post } from '@nestjs/common';
import { Client, type ClientContext, CurrentUser, type PartialPrincipal } from '../../common/index.js';
import type { ChallengeResponse, SessionResponse } from '../dto/auth-responses.js';
import { PartialAuth } from '../guards/partial-auth.decorator.js';
import { VerifyLoginPinDto } from './dto/verify-pin.dto.js';
import { SecondFactorService } from './second-factor.service.js';

/** The routes a partial token opens (and the only ones): verify the PIN, check on it, ask for another. */
@Controller('auth/2fa')
export class SecondFactorController {
  constructor(private readonly secondFactor: SecondFactorService) {}

  @PartialAuth()
  @Post('verify')
  @HttpCode(HttpStatus.OK)
  verify(
    @CurrentUser() principal: PartialPrincipal,
    @Body() dto: VerifyLoginPinDto,
    @Client() client: ClientContext,
  ): Promise<SessionResponse> {
    return this.secondFactor.verify(principal, dto.pin, client, dto.rememberDevice);
  }

  /** Whether the PIN SMS was delivered, how long the PIN lives, when a resend is allowed, attempts left. */
  @PartialAuth()
  @Get('status')
  status(@CurrentUser() principal: PartialPrincipal): Promise<ChallengeResponse['challenge']> {
    return this.secondFactor.status(principal);
  }

  @PartialAuth()
  @Post('resend')
  @HttpCode(HttpStatus.OK)
  resend(
    @CurrentUser() principal: PartialPrincipal,
    @Client() client: ClientContext,
  ): Promise<ChallengeResponse> {
    return this.secondFactor.resend(principal, client);
  }
}
