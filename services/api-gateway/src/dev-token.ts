import { SignJWT } from 'jose';
import { DEV_JWT_SECRET, loadApiGatewayConfig } from './config';

/**
 * `npm start` prints a bearer token for trying the gateway: an admin token for 8 hours, signed with the
 * public development secret — but only when the gateway, reading this same environment, will verify
 * with that secret (development, no key configured). Otherwise it prints nothing and exits 1.
 */
async function main(): Promise<void> {
  const config = loadApiGatewayConfig();
  if (config.JWT_SECRET !== DEV_JWT_SECRET) process.exit(1);
  const token = await new SignJWT({ roles: ['admin'] })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('dev-admin')
    .setIssuer(config.JWT_ISSUER)
    .setAudience(config.JWT_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime('8h')
    .sign(new TextEncoder().encode(DEV_JWT_SECRET));
  process.stdout.write(`${token}\n`);
}

main().catch(() => process.exit(1));
