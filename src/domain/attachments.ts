/**
 * Which attachments the console shows inline: raster images a browser decodes
 * without running anything. Everything else, SVG and HTML among them, is only
 * ever served and offered as a download. Shared by the HTTP route and the page.
 */
export const INLINE_IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp'] as const;
export type InlineImageType = (typeof INLINE_IMAGE_TYPES)[number];

/** The inline image type of a stored content type (case and parameters ignored), or undefined. */
export function inlineImageType(contentType: string): InlineImageType | undefined {
  const base = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  return INLINE_IMAGE_TYPES.find((type) => type === base);
}
