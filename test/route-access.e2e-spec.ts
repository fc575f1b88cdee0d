import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { routeAccess } from '../src/auth/guards/jwt-auth.guard.js';
import { StepUpConfig } from '../src/auth/step-up/step-up.config.js';
import { startTestApp, TestApp } from './support/test-app.js';

/**
 * Every route of the running app and who may call it. A diff here is an access change: review it as one.
 * `public` = anyone, `partial` = a partial token only (the second-factor routes), `full` = a full token of a
 * live session (the default for every route of every module), `full, second factor ≤ N s old` = a sensitive
 * route (`@RequireRecentSecondFactor`).
 */
const INVENTORY = [
  'GET /auth/2fa/status → partial',
  'GET /auth/session → full',
  'GET /health → public',
  'GET /users/me → full',
  'DELETE /users/me → full, second factor ≤ 300 s old',
  'GET /users/me/events → full',
  'GET /users/me/sessions → full',
  'DELETE /users/me/sessions → full',
  'DELETE /users/me/sessions/:id → full',
  'GET /users/me/devices → full',
  'DELETE /users/me/devices/:id → full',
  'POST /auth/2fa/resend → partial',
  'POST /auth/2fa/verify → partial',
  'POST /auth/login → public',
  'POST /auth/logout → full',
  'POST /auth/refresh → public',
  'POST /auth/step-up → full',
  'POST /auth/step-up/resend → full',
  'POST /auth/step-up/verify → full',
  'POST /auth/register → public',
  'POST /sms/xoxzo/delivery-reports → public',
  'POST /users/me/password → full',
  'POST /users/me/phone → full, second factor ≤ 300 s old',
  'POST /users/me/phone/resend → full',
  'POST /users/me/phone/verify → full',
];

function join(...parts: (string | string[] | undefined)[]): string {
  const path = parts
    .flatMap((p) => (Array.isArray(p) ? p[0] : p) ?? '')
    .join('/')
    .replace(/\/+/g, '/')
    .replace(/\/$/, '');
  return path.startsWith('/') ? path : `/${path}`;
}

describe('route access inventory', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('lists every route with its access level, and nothing else', () => {
    const reflector = t.app.get(Reflector);
    const scanner = t.app.get(MetadataScanner);
    const routes: string[] = [];
    for (const wrapper of t.app.get(DiscoveryService).getControllers()) {
      const controller = wrapper.metatype as (new (...args: never[]) => object) | undefined;
      if (!controller) continue;
      const base = Reflect.getMetadata(PATH_METADATA, controller) as string | string[] | undefined;
      for (const name of scanner.getAllMethodNames(controller.prototype)) {
        const handler = (controller.prototype as Record<string, () => unknown>)[name];
        const path = Reflect.getMetadata(PATH_METADATA, handler) as string | string[] | undefined;
        if (path === undefined) continue;
        const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod];
        const access = routeAccess(reflector, handler, controller, t.app.get(StepUpConfig));
        const level =
          typeof access === 'string' ? access : `full, second factor ≤ ${access.maxAgeSeconds} s old`;
        routes.push(`${method} ${join(base, path)} → ${level}`);
      }
    }
    expect(routes.sort()).toEqual([...INVENTORY].sort());
  });
});
