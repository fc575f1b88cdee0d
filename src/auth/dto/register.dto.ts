import { IsInternationalPhone } from '../../users/dto/phone.validator.js';
import { IsLoginEmail, IsPassword, PASSWORD_MIN_LENGTH } from './credentials.js';

export class RegisterDto {
  @IsLoginEmail()
  email: string;

  @IsPassword(PASSWORD_MIN_LENGTH)
  password: string;

  @IsInternationalPhone()
  phone: string;
}
