import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { User } from './user.entity.js';
import { UsersController } from './users.controller.js';
import { UsersService } from './users.service.js';

export const USERS_ENTITIES = [User];

/** Accounts (`users`) and `GET /users/me`. */
@Module({
  imports: [TypeOrmModule.forFeature(USERS_ENTITIES)],
  controllers: [UsersController],
  providers: [UsersService],
  exports: [UsersService],
})
export class UsersModule {}
