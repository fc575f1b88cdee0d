import { IsInternationalPhone } from '../../phone/phone.validator.js';

export class ChangePhoneDto {
  @IsInternationalPhone()
  phone: string;
}
