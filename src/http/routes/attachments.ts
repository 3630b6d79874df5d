import { Router, type Response } from 'express';
import type { Auth } from '../../auth/sessions.ts';
import type { ConsoleService } from '../../console/service.ts';
import { inlineImageType } from '../../domain/attachments.ts';
import { actorOf, requireRole } from '../middleware.ts';
import { attachmentParams } from '../schemas.ts';
import { parse } from '../validate.ts';

const MAX_NAME_CHARS = 200;

/**
 * A file name as an RFC 8187 ext-value: control characters, path separators
 * and unpaired surrogates replaced, then UTF-8 percent-encoded beyond
 * attr-char, so no name can break out of the header.
 */
export function encodeFileName(name: string): string {
  const cleaned = name.replace(/[\p{Cc}\p{Cs}/\\]/gu, '_').trim();
  const safe = Array.from(cleaned).slice(0, MAX_NAME_CHARS).join('') || 'attachment';
  return encodeURIComponent(safe).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * Sends stored content so that it can never run as the gateway's page: raster
 * images inline under their own type, everything else as an opaque download,
 * no sniffing, and a sandboxing CSP for a browser that opens it directly.
 */
function sendAttachment(res: Response, attachment: { name: string; contentType: string; content: Buffer }): void {
  const image = inlineImageType(attachment.contentType);
  res.set({
    'Content-Type': image ?? 'application/octet-stream',
    'Content-Disposition': `${image ? 'inline' : 'attachment'}; filename*=UTF-8''${encodeFileName(attachment.name)}`,
    'X-Content-Type-Options': 'nosniff',
    'Content-Security-Policy': "default-src 'none'; sandbox",
    // Content behind a hash never changes, but access to it can be withdrawn: cache briefly, per user.
    'Cache-Control': 'private, max-age=300',
    Vary: 'Authorization',
  });
  res.send(attachment.content);
}

/** `/api/messages/:messageId/attachments/:index`: attachment content for those who may open the conversation. */
export function attachmentRoutes(deps: { auth: Auth; console: ConsoleService }): Router {
  const r = Router();
  const agent = requireRole(deps.auth, 'agent');

  r.get('/messages/:messageId/attachments/:index', agent, async (req, res) => {
    const { messageId, index } = parse(attachmentParams, req.params, 'params');
    sendAttachment(res, await deps.console.attachment(actorOf(res), messageId, index));
  });
  return r;
}
