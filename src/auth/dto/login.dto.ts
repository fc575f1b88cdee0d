import { IsLoginEmail, IsPassword } from './credentials.js';

export class LoginDto {
  @IsLoginEmail()
  email: string;

  /** Any non-empty password may be tried (old accounts may predate today's minimum). */
  @IsPassword(1)
  password: string;
}
