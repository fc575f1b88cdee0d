export default async function globalTeardown() {
  const { stopE2ePostgres } = await import('./e2e-postgres.ts');
  await stopE2ePostgres();
}
