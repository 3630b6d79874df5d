/**
 * Password hashing with Argon2id, and random secrets.
 */
import { createHash, randomBytes } from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';

/** Hashes a password with Argon2id (the library's recommended parameters). */
export function hashPassword(password: string): Promise<string> {
  return hash(password);
}

/** Checks a password against its hash; false on any mismatch or malformed hash. */
export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}

/** A URL-safe random secret of `bytes` bytes of entropy. */
export function randomSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/** SHA-256 of a token, as stored (tokens themselves are never stored). */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
