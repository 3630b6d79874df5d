/**
 * Makes sure the real PostgreSQL and Redis the integration tests use are
 * running: starts them, or installs Debian's packages first when allowed
 * (root, and LIFELINE_INSTALL_SERVICES not 0). Fails loudly otherwise.
 */
import { ensureServices } from './services.ts';

export default async function setup(): Promise<void> {
  await ensureServices();
}
