import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from '@jest/globals';
import { Controller, ExecutionContext, Get, HttpStatus, Post } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { JwtService } from '@nestjs/jwt';
import { Test } from '@nestjs/testing';
import {
  ApiException,
  ErrorCode,
  type Principal,
  Public,
  RequireRecentSecondFactor,
  ServerKeys,
  ServerSecret,
} from '../../common/index.js';
import { loadConfig } from '../../app-config.js';
import { JwtConfig } from '../sessions/jwt.config.js';
import { AuthKeys } from '../auth-keys.js';
import { PartialAuth } from './partial-auth.decorator.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { FULL_AMR, TokensService } from '../sessions/tokens.service.js';
import { StepUpConfig } from '../step-up/step-up.config.js';
import { JwtAuthGuard } from './jwt-auth.guard.js';

/** A controller shaped like the real ones: protected by default, a few opt-outs. */
@Controller('dummy')
class DummyController {
  @Public()
  @Get('open')
  open(): void {}

  @Get('me')
  me(): void {}

  @PartialAuth()
  @Post('2fa/verify')
  verify(): void {}

  @RequireRecentSecondFactor(60)
  @Post('sensitive')
  sensitive(): void {}

  @RequireRecentSecondFactor()
  @Post('sensitive-default')
  sensitiveDefault(): void {}
}

@Public()
@Controller('health')
class PublicController {
  @Get()
  check(): void {}
}

type Request = { headers: { authorization?: string }; user?: Principal };

function contextFor(handler: (...args: never[]) => unknown, cls: object, request: Request): ExecutionContext {
  return {
    getHandler: () => handler,
    getClass: () => cls,
    getType: () => 'http',
    getArgs: () => [request, {}],
    getArgByIndex: (index: number) => [request, {}][index],
    switchToHttp: () => ({
      getRequest: () => request,
      getResponse: () => ({}),
      getNext: () => () => undefined,
    }),
    switchToRpc: () => {
      throw new Error('not rpc');
    },
    switchToWs: () => {
      throw new Error('not ws');
    },
  } as unknown as ExecutionContext;
}

const bearer = (token: string): Request => ({ headers: { authorization: `Bearer ${token}` } });

async function apiErrorOf(promise: Promise<unknown>): Promise<ApiException> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApiException);
  return error as ApiException;
}

describe(JwtAuthGuard.name, () => {
  const proto = DummyController.prototype;
  let guard: JwtAuthGuard;
  let tokens: TokensService;
  let sessionActive: boolean;
  let isActiveCalls: [string, string][];

  beforeEach(async () => {
    sessionActive = true;
    isActiveCalls = [];
    const sessions = {
      isActive: (sessionId: string, userId: string) => {
        isActiveCalls.push([sessionId, userId]);
        return Promise.resolve(sessionActive);
      },
    };
    const module = await Test.createTestingModule({
      providers: [
        JwtAuthGuard,
        Reflector,
        TokensService,
        AuthKeys,
        ServerKeys,
        { provide: ServerSecret, useExisting: JwtConfig },
        { provide: JwtService, useValue: new JwtService() },
        {
          provide: JwtConfig,
          useValue: loadConfig({ JWT_SECRET: 'jwt-auth-guard-spec-secret-0123456789abc' }).jwt,
        },
        { provide: SessionsService, useValue: sessions },
        { provide: StepUpConfig, useValue: { maxAgeSeconds: 300 } },
      ],
    }).compile();
    guard = module.get(JwtAuthGuard);
    tokens = module.get(TokensService);
  });

  const fullToken = (userId = randomUUID(), sessionId = randomUUID()) =>
    tokens.signAccess({
      userId,
      sessionId,
      authenticatedAt: new Date(),
      secondFactorAt: new Date(),
      amr: FULL_AMR,
    });
  const partialToken = (minutes = 5, userId = randomUUID(), attemptId = randomUUID()) =>
    tokens.signPartial(userId, attemptId, new Date(Date.now() + minutes * 60_000));

  describe('@Public()', () => {
    it('lets a route through without a token', async () => {
      const request: Request = { headers: {} };
      await expect(guard.canActivate(contextFor(proto.open, DummyController, request))).resolves.toBe(true);
      expect(request.user).toBeUndefined();
    });

    it('on the class opens every route of the controller', async () => {
      const context = contextFor(PublicController.prototype.check, PublicController, { headers: {} });
      await expect(guard.canActivate(context)).resolves.toBe(true);
    });
  });

  describe('default (protected) routes', () => {
    it('refuse a request without a token: UNAUTHENTICATED with a Bearer challenge', async () => {
      const error = await apiErrorOf(
        guard.canActivate(contextFor(proto.me, DummyController, { headers: {} })),
      );
      expect(error.getStatus()).toBe(HttpStatus.UNAUTHORIZED);
      expect(error.code).toBe(ErrorCode.UNAUTHENTICATED);
      expect(error.headers['WWW-Authenticate']).toBe('Bearer');
    });

    it.each(['Basic dXNlcjpwYXNz', 'Bearer', 'Bearer not-a-jwt', 'Token a.b.c'])(
      'refuse a malformed Authorization header (%s) as unauthenticated',
      async (authorization) => {
        const context = contextFor(proto.me, DummyController, { headers: { authorization } });
        const error = await apiErrorOf(guard.canActivate(context));
        expect(error.code).toBe(ErrorCode.UNAUTHENTICATED);
      },
    );

    it('accept a full token of a live session and set request.user', async () => {
      const userId = randomUUID();
      const sessionId = randomUUID();
      const request = bearer(await fullToken(userId, sessionId));
      await expect(guard.canActivate(contextFor(proto.me, DummyController, request))).resolves.toBe(true);
      expect(request.user).toMatchObject({ kind: 'full', userId, sessionId });
      expect(isActiveCalls).toEqual([[sessionId, userId]]);
    });

    it('refuse a full token whose session was revoked', async () => {
      sessionActive = false;
      const request = bearer(await fullToken());
      const error = await apiErrorOf(guard.canActivate(contextFor(proto.me, DummyController, request)));
      expect(error.getStatus()).toBe(HttpStatus.UNAUTHORIZED);
      expect(error.code).toBe(ErrorCode.UNAUTHENTICATED);
      expect(error.headers['WWW-Authenticate']).toContain('invalid_token');
      expect(request.user).toBeUndefined();
    });

    it('answer a partial token with SECOND_FACTOR_REQUIRED and an RFC 9470 challenge', async () => {
      const request = bearer(await partialToken());
      const error = await apiErrorOf(guard.canActivate(contextFor(proto.me, DummyController, request)));
      expect(error.getStatus()).toBe(HttpStatus.UNAUTHORIZED);
      expect(error.code).toBe(ErrorCode.SECOND_FACTOR_REQUIRED);
      expect(error.headers['WWW-Authenticate']).toContain('insufficient_user_authentication');
      expect(request.user).toBeUndefined();
    });

    it('refuse an expired partial token as plain UNAUTHENTICATED', async () => {
      const request = bearer(await partialToken(-1));
      const error = await apiErrorOf(guard.canActivate(contextFor(proto.me, DummyController, request)));
      expect(error.code).toBe(ErrorCode.UNAUTHENTICATED);
    });

    it('refuse a tampered full token', async () => {
      const token = await fullToken();
      const tampered = `${token.slice(0, -2)}${token.endsWith('AA') ? 'BB' : 'AA'}`;
      const error = await apiErrorOf(
        guard.canActivate(contextFor(proto.me, DummyController, bearer(tampered))),
      );
      expect(error.code).toBe(ErrorCode.UNAUTHENTICATED);
      expect(isActiveCalls).toEqual([]);
    });
  });

  describe('@PartialAuth() routes', () => {
    it('accept a partial token and set request.user', async () => {
      const userId = randomUUID();
      const attemptId = randomUUID();
      const request = bearer(await partialToken(5, userId, attemptId));
      await expect(guard.canActivate(contextFor(proto.verify, DummyController, request))).resolves.toBe(true);
      expect(request.user).toEqual({ kind: 'partial', userId, attemptId });
    });

    it('refuse a full token', async () => {
      const request = bearer(await fullToken());
      const error = await apiErrorOf(guard.canActivate(contextFor(proto.verify, DummyController, request)));
      expect(error.getStatus()).toBe(HttpStatus.UNAUTHORIZED);
      expect(error.code).toBe(ErrorCode.UNAUTHENTICATED);
      expect(request.user).toBeUndefined();
    });

    it('refuse a request without a token', async () => {
      const error = await apiErrorOf(
        guard.canActivate(contextFor(proto.verify, DummyController, { headers: {} })),
      );
      expect(error.code).toBe(ErrorCode.UNAUTHENTICATED);
    });

    it('answer an expired partial token with CHALLENGE_CLOSED', async () => {
      const request = bearer(await partialToken(-1));
      const error = await apiErrorOf(guard.canActivate(contextFor(proto.verify, DummyController, request)));
      expect(error.getStatus()).toBe(HttpStatus.UNAUTHORIZED);
      expect(error.code).toBe(ErrorCode.CHALLENGE_CLOSED);
    });
  });
  describe('@RequireRecentSecondFactor()', () => {
    const tokenWithSecondFactorAt = (secondsAgo: number) =>
      tokens.signAccess({
        userId: randomUUID(),
        sessionId: randomUUID(),
        authenticatedAt: new Date(),
        secondFactorAt: new Date(Date.now() - secondsAgo * 1000),
        amr: FULL_AMR,
      });

    it('lets a full token through while its second factor is recent enough', async () => {
      const request = bearer(await tokenWithSecondFactorAt(30));
      await expect(guard.canActivate(contextFor(proto.sensitive, DummyController, request))).resolves.toBe(
        true,
      );
    });

    it('answers an older second factor with 401 STEP_UP_REQUIRED and the RFC 9470 max_age challenge', async () => {
      const error = await apiErrorOf(
        guard.canActivate(
          contextFor(proto.sensitive, DummyController, bearer(await tokenWithSecondFactorAt(90))),
        ),
      );
      expect(error.getStatus()).toBe(HttpStatus.UNAUTHORIZED);
      expect(error.code).toBe(ErrorCode.STEP_UP_REQUIRED);
      expect(error.headers['WWW-Authenticate']).toBe(
        'Bearer error="insufficient_user_authentication", max_age=60',
      );
    });

    it('uses STEP_UP_MAX_AGE_SECONDS without an argument', async () => {
      const fresh = bearer(await tokenWithSecondFactorAt(200));
      await expect(
        guard.canActivate(contextFor(proto.sensitiveDefault, DummyController, fresh)),
      ).resolves.toBe(true);
      const error = await apiErrorOf(
        guard.canActivate(
          contextFor(proto.sensitiveDefault, DummyController, bearer(await tokenWithSecondFactorAt(400))),
        ),
      );
      expect(error.headers['WWW-Authenticate']).toContain('max_age=300');
    });

    it('still needs a full token of a live session first (a partial token is SECOND_FACTOR_REQUIRED)', async () => {
      const error = await apiErrorOf(
        guard.canActivate(contextFor(proto.sensitive, DummyController, bearer(await partialToken()))),
      );
      expect(error.code).toBe(ErrorCode.SECOND_FACTOR_REQUIRED);
    });
  });
});
