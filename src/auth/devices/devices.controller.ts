import { Controller, Delete, Get, HttpCode, HttpStatus } from '@nestjs/common';
import { Client, type ClientContext, CurrentUser, type FullPrincipal, IdParam } from '../../common/index.js';
import { TrustedDevicesService } from './trusted-devices.service.js';

/** One entry of `GET /users/me/devices`. */
export interface DeviceView {
  id: string;
  createdAt: string;
  /** The last login that used it; null until then. */
  lastUsedAt: string | null;
  userAgent: string | null;
}

/** The caller's remembered devices ("remember this device" at the login PIN). */
@Controller('users/me/devices')
export class DevicesController {
  constructor(private readonly devices: TrustedDevicesService) {}

  /** Live (unexpired) devices, newest first. */
  @Get()
  async list(@CurrentUser() me: FullPrincipal): Promise<{ devices: DeviceView[] }> {
    const devices = await this.devices.list(me.userId);
    return {
      devices: devices.map((d) => ({
        id: d.id,
        createdAt: d.createdAt.toISOString(),
        lastUsedAt: d.lastUsedAt?.toISOString() ?? null,
        userAgent: d.userAgent,
      })),
    };
  }

  /** Forgets one: its token no longer skips the PIN (sessions it opened go on until they end). */
  @Delete(':id')
  @HttpCode(HttpStatus.NO_CONTENT)
  async forget(
    @CurrentUser() me: FullPrincipal,
    @IdParam('id', 'No such device') id: string,
    @Client() client: ClientContext,
  ): Promise<void> {
    await this.devices.forget(me, id, client);
  }
}
