// Jest loads global setup outside its own module system, so this stays plain JavaScript and imports the
// TypeScript through tsx's loader (registered by `npm test`: node --import tsx/esm).
export default async function globalSetup() {
  const { startE2ePostgres } = await import('./e2e-postgres.ts');
  await startE2ePostgres();
}
