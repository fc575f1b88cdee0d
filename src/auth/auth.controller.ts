import { Body, Controller, Get, Headers, HttpCode, HttpStatus, Post, UseGuards } from '@nestjs/common';
import {
  Client,
  type ClientContext,
  CurrentUser,
  type FullPrincipal,
  type PartialPrincipal,
  Public,
} from '../common/index.js';
import type { User } from '../users/user.entity.js';
import { AuthService } from './auth.service.js';
import { PartialAuth } from './guards/partial-auth.decorator.js';
import type { ChallengeResponse, SessionResponse } from './dto/auth-responses.js';
import { LogoutDto, RefreshDto } from './dto/refresh.dto.js';
import { RegisterDto } from './dto/register.dto.js';
import { VerifyPinDto } from './second-factor/dto/verify-pin.dto.js';
import { LocalAuthGuard } from './password/local-auth.guard.js';

@Controller('auth')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Public()
  @Post('register')
  @HttpCode(HttpStatus.CREATED)
  register(
    @Body() dto: RegisterDto,
    @Client() client: ClientContext,
    @Headers('accept-language') acceptLanguage?: string,
  ): Promise<ChallengeResponse> {
    return this.auth.register(dto, client, acceptLanguage);
  }

  /** passport-local checks `{email, password}` (LocalAuthGuard); the handler opens the second factor. */
  @Public()
  @UseGuards(LocalAuthGuard)
  @Post('login')
  @HttpCode(HttpStatus.OK)
  login(@CurrentUser() user: User, @Client() client: ClientContext): Promise<ChallengeResponse> {
    return this.auth.login(user, client);
  }

  @PartialAuth()
  @Post('2fa/verify')
  @HttpCode(HttpStatus.OK)
  verify(
    @CurrentUser() principal: PartialPrincipal,
    @Body() dto: VerifyPinDto,
    @Client() client: ClientContext,
  ): Promise<SessionResponse> {
    return this.auth.verifyPin(principal, dto.pin, client);
  }

  /** Whether the PIN SMS was delivered, how long the PIN lives, when a resend is allowed, attempts left. */
  @PartialAuth()
  @Get('2fa/status')
  status(@CurrentUser() principal: PartialPrincipal): Promise<ChallengeResponse['challenge']> {
    return this.auth.challengeStatus(principal);
  }

  @PartialAuth()
  @Post('2fa/resend')
  @HttpCode(HttpStatus.OK)
  resend(
    @CurrentUser() principal: PartialPrincipal,
    @Client() client: ClientContext,
  ): Promise<ChallengeResponse> {
    return this.auth.resendPin(principal, client);
  }

  @Public()
  @Post('refresh')
  @HttpCode(HttpStatus.OK)
  refresh(@Body() dto: RefreshDto, @Client() client: ClientContext): Promise<SessionResponse> {
    return this.auth.refresh(dto.refreshToken, client);
  }

  @Post('logout')
  @HttpCode(HttpStatus.NO_CONTENT)
  async logout(
    @CurrentUser() principal: FullPrincipal,
    @Body() dto: LogoutDto,
    @Client() client: ClientContext,
  ): Promise<void> {
    await this.auth.logout(principal, client, dto.refreshToken);
  }
}
