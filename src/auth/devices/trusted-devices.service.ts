import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import { AuditService } from '../../audit/audit.service.js';
import { type ClientContext, type FullPrincipal, notFound } from '../../common/index.js';
import { DevicesConfig } from './devices.config.js';
import { TrustedDevice } from './trusted-device.entity.js';

/** At most this many remembered devices per account: the oldest goes when another is remembered. */
const MAX_DEVICES = 20;

const hashOf = (token: string) => createHash('sha256').update(token).digest();

/** Remembered devices: made after a PIN, used instead of a PIN at login, forgotten with the credentials. */
@Injectable()
export class TrustedDevicesService {
  constructor(
    @InjectRepository(TrustedDevice) private readonly devices: Repository<TrustedDevice>,
    private readonly config: DevicesConfig,
    private readonly audit: AuditService,
  ) {}

  get enabled(): boolean {
    return this.config.trustedDays > 0;
  }

  /** Remembers the device a PIN was just proven on; returns its token (shown once) and its id. */
  async remember(
    userId: string,
    secondFactorAt: Date,
    client: ClientContext,
    manager: EntityManager,
  ): Promise<{ id: string; token: string }> {
    const token = randomBytes(32).toString('base64url');
    const id = randomUUID();
    await manager.insert(TrustedDevice, {
      id,
      userId,
      tokenHash: hashOf(token),
      userAgent: client.userAgent?.slice(0, 256) ?? null,
      secondFactorAt,
      lastUsedAt: null,
      expiresAt: new Date(Date.now() + this.config.trustedDays * 86_400_000),
    });
    await manager.query(
      `DELETE FROM trusted_devices WHERE id IN (
         SELECT id FROM trusted_devices WHERE user_id = $1 ORDER BY created_at DESC OFFSET $2)`,
      [userId, MAX_DEVICES],
    );
    return { id, token };
  }

  /** Whether this is the token of one of the user's live devices (nothing is marked). */
  async isLive(userId: string, token: string): Promise<boolean> {
    if (!this.enabled) return false;
    return this.devices
      .createQueryBuilder('d')
      .where('d.token_hash = :hash AND d.user_id = :userId AND d.expires_at > now()', {
        hash: hashOf(token),
        userId,
      })
      .getExists();
  }

  /** The user's device for this token, if it is live (marked used); undefined for anything else. */
  async use(userId: string, token: string): Promise<{ id: string; secondFactorAt: Date } | undefined> {
    if (!this.enabled) return undefined;
    const result = await this.devices
      .createQueryBuilder()
      .update()
      .set({ lastUsedAt: () => 'now()' })
      .where('token_hash = :hash AND user_id = :userId AND expires_at > now()', {
        hash: hashOf(token),
        userId,
      })
      .returning(['id', 'secondFactorAt'])
      .execute();
    const [row] = result.raw as { id: string; second_factor_at: Date }[];
    return row && { id: row.id, secondFactorAt: row.second_factor_at };
  }

  list(userId: string): Promise<TrustedDevice[]> {
    return this.devices
      .createQueryBuilder('d')
      .where('d.user_id = :userId AND d.expires_at > now()', { userId })
      .orderBy('d.created_at', 'DESC')
      .getMany();
  }

  /** @throws 404 NOT_FOUND when `id` is not one of the caller's remembered devices. */
  async forget(me: FullPrincipal, id: string, client: ClientContext): Promise<void> {
    const result = await this.devices.delete({ id, userId: me.userId });
    if (!result.affected) throw notFound('No such device');
    await this.audit.record('device_forgotten', client, me.userId, { device: id });
  }

  /** Forgets every device of the user (a change of credentials, "end all sessions"); returns how many. */
  async forgetAll(userId: string, manager: EntityManager = this.devices.manager): Promise<number> {
    const result = await manager.delete(TrustedDevice, { userId });
    return result.affected ?? 0;
  }

  /** The audit line for `forgetAll`, once its transaction has committed (nothing when none was forgotten). */
  async recordForgotten(client: ClientContext, userId: string, reason: string, count: number): Promise<void> {
    if (count > 0) await this.audit.record('device_forgotten', client, userId, { reason, count });
  }

  /** A PIN was proven again on this device (a step-up in one of its sessions). */
  async secondFactorProven(deviceId: string, at: Date, manager: EntityManager): Promise<void> {
    await manager.update(TrustedDevice, { id: deviceId }, { secondFactorAt: at });
  }
}
