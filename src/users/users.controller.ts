import { Controller, Get } from '@nestjs/common';
import { CurrentUser, type FullPrincipal, notFound } from '../common/index.js';
import type { User } from './user.entity.js';
import { UsersService } from './users.service.js';

export interface MeResponse {
  id: string;
  email: string;
  phone: string;
  phoneVerified: boolean;
  createdAt: string;
}

/** The account as `GET /users/me` shows it. */
export function toMe(user: User): MeResponse {
  return {
    id: user.id,
    email: user.email,
    phone: user.phone,
    phoneVerified: user.phoneVerifiedAt !== null,
    createdAt: user.createdAt.toISOString(),
  };
}

@Controller('users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Get('me')
  async me(@CurrentUser() principal: FullPrincipal): Promise<MeResponse> {
    const user = await this.users.findById(principal.userId);
    if (!user) throw notFound('User not found');
    return toMe(user);
  }
}
