import { Body, Controller, Headers, HttpCode, HttpStatus, Post, UseGuards } from '@nestjs/common';
import { Client, type ClientContext, CurrentUser, type FullPrincipal, Public } from '../common/index.js';
import type { User } from '../users/user.entity.js';
import { AuthService } from './auth.service.js';
import type { ChallengeResponse, SessionResponse } from './dto/auth-responses.js';
import { LoginDto } from './dto/login.dto.js';
import { LogoutDto, RefreshDto } from './dto/refresh.dto.js';
import { RegisterDto } from './registration/register.dto.js';
import { RegistrationService } from './registration/registration.service.js';
import { LocalAuthGuard, PasswordUser } from './password/local-auth.guard.js';

@Controller('auth')
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly registration: RegistrationService,
  ) {}

  @Public()
  @Post('register')
  @HttpCode(HttpStatus.CREATED)
  register(
    @Body() dto: RegisterDto,
    @Client() client: ClientContext,
    @Headers('accept-language') acceptLanguage?: string,
  ): Promise<ChallengeResponse> {
    return this.registration.register(dto, client, acceptLanguage);
  }

  /**
   * passport-local checks `{email, password}` (LocalAuthGuard); the handler opens the second factor, or a
   * session at once on a remembered device (`deviceToken`).
   */
  @Public()
  @UseGuards(LocalAuthGuard)
  @Post('login')
  @HttpCode(HttpStatus.OK)
  login(
    @PasswordUser() user: User,
    @Body() dto: LoginDto,
    @Client() client: ClientContext,
  ): Promise<ChallengeResponse | SessionResponse> {
    return this.auth.login(user, client, dto.deviceToken);
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
