// When to reload what the forum, directory and events views show: after a sync round (new
// posts, acknowledged ones) and whenever the number of changes waiting to be sent moves.
import { syncStore } from '../sync.svelte';

/** Changes when a sync may have changed the e-community cache; read inside an `$effect`. */
export function forumSyncKey(): string {
  const s = syncStore.status;
  if (!s) return '';
  return `${s.last_sync ?? ''}|${s.waiting}|${s.conflicts}|${s.rejected}`;
}
