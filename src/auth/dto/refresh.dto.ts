import { IsOptional, IsString, Matches } from 'class-validator';

const REFRESH_TOKEN = /^[A-Za-z0-9_-]{20,128}$/;
const MESSAGE = 'refreshToken must be a refresh token string';

export class RefreshDto {
  @IsString()
  @Matches(REFRESH_TOKEN, { message: MESSAGE })
  refreshToken: string;
}

export class LogoutDto {
  @IsOptional()
  @IsString()
  @Matches(REFRESH_TOKEN, { message: MESSAGE })
  refreshToken?: string;
}
