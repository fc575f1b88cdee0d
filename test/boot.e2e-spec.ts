import { spawn } from 'node:child_process';
import { describe, expect, it } from '@jest/globals';

/**
 * The server refuses to start on settings that fail open, as an operator would see it: `node src/main.ts`
 * with that environment exits with status 1 and names every variable to fix.
 */
function boot(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx/esm', 'src/main.ts'], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('production fails closed at boot', () => {
  it('refuses to listen beyond loopback without NODE_ENV=production, naming NODE_ENV', async () => {
    const { code, output } = await boot({ HOST: '0.0.0.0' });
    expect(code).toBe(1);
    expect(output).toMatch(/HOST: 0\.0\.0\.0 .*NODE_ENV/);
  });

  it('refuses production without a database, an allow-list, Xoxzo credentials, or with a weak secret', async () => {
    const { code, output } = await boot({ NODE_ENV: 'production', JWT_SECRET: 'abcdefgh'.repeat(4) });
    expect(code).toBe(1);
    for (const variable of ['DATABASE_URL', 'SMS_ALLOWED_COUNTRIES', 'SMS_DRIVER', 'JWT_SECRET']) {
      expect(output).toContain(`${variable}:`);
    }
  });

  it('refuses a weakening setting in production unless UNSAFE_SETTINGS names it', async () => {
    const env = {
      NODE_ENV: 'production',
      JWT_SECRET: '7c0f5b4e9a1d3c6f8e2b0a4d6c8e1f3a5b7d9c2e4f6a8b0c',
      DATABASE_URL: 'postgres://nobody:nothing@127.0.0.1:9/none',
      SMS_ALLOWED_COUNTRIES: 'JP',
      XOXZO_API_SID: 'ACsid',
      XOXZO_API_AUTH_TOKEN: 'token',
      PIN_LENGTH: '4',
    };
    const refused = await boot(env);
    expect(refused.code).toBe(1);
    expect(refused.output).toMatch(/PIN_LENGTH: .*UNSAFE_SETTINGS/);
  });
});
