import { Column, CreateDateColumn, Entity, Index, PrimaryColumn, UpdateDateColumn } from 'typeorm';

@Entity({ name: 'users' })
// A phone number belongs to at most one account once verified; unverified duplicates may exist until then.
@Index('UQ_users_verified_phone', ['phone'], { unique: true, where: '"phone_verified_at" IS NOT NULL' })
export class User {
  /** Made by the app (`randomUUID`), like every id here: no database extension needed. */
  @PrimaryColumn('uuid')
  id: string;

  /** Lower-cased at the edge (DTO), unique. */
  @Index('UQ_users_email', { unique: true })
  @Column({ type: 'varchar', length: 254 })
  email: string;

  @Column({ name: 'password_hash', type: 'varchar', length: 255 })
  passwordHash: string;

  /** E.164, e.g. `+818012345209`. */
  @Column({ type: 'varchar', length: 16 })
  phone: string;

  /** Language of the PIN SMS (`en`, `ja`): from registration's `locale`, else its Accept-Language. */
  @Column({ type: 'varchar', length: 8, default: 'en' })
  locale: string;

  @Column({ name: 'phone_verified_at', type: 'timestamptz', nullable: true })
  phoneVerifiedAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
