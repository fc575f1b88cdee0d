import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, IsNull, Not, Repository } from 'typeorm';
import { User } from './user.entity.js';

/** PostgreSQL's unique_violation. */
const UNIQUE_VIOLATION = '23505';

export class UniqueViolation extends Error {
  constructor(readonly constraint: string | undefined) {
    super(`unique violation on ${constraint ?? 'unknown constraint'}`);
  }
}

@Injectable()
export class UsersService {
  constructor(@InjectRepository(User) private readonly users: Repository<User>) {}

  findById(id: string): Promise<User | null> {
    return this.users.findOneBy({ id });
  }

  /** `email` must already be normalised (lower-case). */
  findByEmail(email: string): Promise<User | null> {
    return this.users.findOneBy({ email });
  }

  /** @throws UniqueViolation when the email is taken (also under a concurrent insert). */
  /** `id` may be chosen by the caller (e.g. to count limits before the row exists). */
  async create(
    data: Pick<User, 'email' | 'passwordHash' | 'phone' | 'locale'> & { id?: string },
  ): Promise<User> {
    return this.users
      .save(this.users.create({ id: randomUUID(), ...data, phoneVerifiedAt: null }))
      .catch(rethrowUnique);
  }

  /** The account that has verified this phone number, if any (at most one can). */
  findByVerifiedPhone(phone: string): Promise<User | null> {
    return this.users.findOneBy({ phone, phoneVerifiedAt: Not(IsNull()) });
  }

  /** True when another account has already verified this phone number. */
  async phoneVerifiedElsewhere(
    phone: string,
    exceptUserId?: string,
    manager?: EntityManager,
  ): Promise<boolean> {
    const repo = manager ? manager.getRepository(User) : this.users;
    const where = {
      phone,
      phoneVerifiedAt: Not(IsNull()),
      ...(exceptUserId ? { id: Not(exceptUserId) } : {}),
    };
    return repo.existsBy(where);
  }

  async setPasswordHash(userId: string, passwordHash: string, manager?: EntityManager): Promise<void> {
    await (manager ? manager.getRepository(User) : this.users).update({ id: userId }, { passwordHash });
  }

  /**
   * A new, verified phone number for the account (its PIN was just proven); the old number is free again.
   * @throws UniqueViolation when another account verified the same number first.
   */
  async changePhone(userId: string, phone: string, manager: EntityManager): Promise<User> {
    await manager
      .createQueryBuilder()
      .update(User)
      .set({ phone, phoneVerifiedAt: () => 'now()' })
      .where('id = :userId', { userId })
      .execute()
      .catch(rethrowUnique);
    return manager.getRepository(User).findOneByOrFail({ id: userId });
  }

  /** Undoes a registration whose first PIN could not be sent (only while nothing was verified). */
  /**
   * Deletes the account (its email and number are free again); its sessions, refresh tokens, devices and
   * login attempts go with it (foreign keys `ON DELETE CASCADE`). The row is locked first.
   */
  async delete(id: string, manager: EntityManager): Promise<User | null> {
    const user = await manager.findOne(User, { where: { id }, lock: { mode: 'pessimistic_write' } });
    if (user) await manager.delete(User, { id });
    return user;
  }

  async deleteUnverified(id: string): Promise<void> {
    await this.users.delete({ id, phoneVerifiedAt: IsNull() });
  }

  /**
   * Marks the phone verified (first verification wins).
   * @throws UniqueViolation when another account verified the same number first.
   */
  async markPhoneVerified(userId: string, manager: EntityManager): Promise<void> {
    await manager
      .createQueryBuilder()
      .update(User)
      .set({ phoneVerifiedAt: () => 'now()' })
      .where('id = :userId AND phone_verified_at IS NULL', { userId })
      .execute()
      .catch(rethrowUnique);
  }
}

function rethrowUnique(error: unknown): never {
  const driverError = (error as { driverError?: { code?: string; constraint?: string } }).driverError;
  if (driverError?.code === UNIQUE_VIOLATION) throw new UniqueViolation(driverError.constraint);
  throw error;
}
