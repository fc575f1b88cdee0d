import { IsBoolean, IsOptional, IsString, Matches } from 'class-validator';

export class VerifyPinDto {
  @IsString()
  @Matches(/^[0-9]{4,8}$/, { message: 'pin must be 4 to 8 digits' })
  pin: string;
}

/** The login's PIN, which may also remember this device. */
export class VerifyLoginPinDto extends VerifyPinDto {
  /** Remember this device for TRUSTED_DEVICE_DAYS: the session response then carries a `deviceToken`. */
  @IsOptional()
  @IsBoolean()
  rememberDevice?: boolean;
}
