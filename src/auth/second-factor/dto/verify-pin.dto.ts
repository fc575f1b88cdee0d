import { IsString, Matches } from 'class-validator';

export class VerifyPinDto {
  @IsString()
  @Matches(/^[0-9]{4,8}$/, { message: 'pin must be 4 to 8 digits' })
  pin: string;
}
