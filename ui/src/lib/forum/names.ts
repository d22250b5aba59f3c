// Names for what the e-community sends as codes: countries (ISO 3166-1 alpha-2), roles,
// category kinds and CMS regions, in the reader's language.
import { hasKey, i18n, t } from '../i18n/index.svelte';
import type { CategoryKind, Role } from './api';

/** "Kenya" for `KE` (in the interface language); the code itself when unknown. */
export function countryName(code: string): string {
  try {
    return new Intl.DisplayNames([i18n.lang], { type: 'region' }).of(code.toUpperCase()) ?? code;
  } catch {
    return code;
  }
}

export function roleLabel(role: Role): string {
  return t(`forum.role.${role}`);
}

export function categoryKindLabel(kind: CategoryKind): string {
  return t(`forum.kind.${kind}`);
}

/** A CMS region slug of the directory filter ("south-central-america-caribbean"). */
export function forumRegionLabel(slug: string): string {
  const key = `forum.region.${slug}`;
  return hasKey(key) ? t(key) : slug;
}
