import { IsOptional, IsString, MaxLength } from 'class-validator';
import { IsLoginEmail, IsPassword } from './credentials.js';

export class LoginDto {
  @IsLoginEmail()
  email: string;

  /** Any non-empty password may be tried (old accounts may predate today's minimum). */
  @IsPassword(1)
  password: string;

  /**
   * A remembered device's token: when it is one of this user's live devices the session opens without a
   * PIN; any other string (wrong, expired, forgotten, malformed) is ignored, the PIN challenge follows.
   */
  @IsOptional()
  @IsString()
  @MaxLength(256)
  deviceToken?: string;
}
