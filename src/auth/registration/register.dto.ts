import { IsOptional, IsString, Matches } from 'class-validator';
import { IsInternationalPhone } from '../../phone/phone.validator.js';
import { IsLoginEmail, IsNewPassword } from '../dto/credentials.js';

export class RegisterDto {
  @IsLoginEmail()
  email: string;

  @IsNewPassword()
  password: string;

  @IsInternationalPhone()
  phone: string;

  /** Language of the PIN SMS (`en`, `ja`, `ja-JP`…); unsupported ones fall back to `en`. Default: from Accept-Language. */
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8}){0,3}$/, {
    message: 'locale must be a language tag like ja or en-US',
  })
  locale?: string;
}
