import { errorMessage } from './errors';

/** Holds the result of one back-end call; a newer call wins over a slower older one. */
export class Loader<T> {
  data = $state<T | null>(null);
  error = $state<string | null>(null);
  loading = $state(false);
  #token = 0;

  /** `keep`: leave the current data on screen while reloading (e.g. a language switch). */
  async run(fetch: () => Promise<T>, keep = false): Promise<void> {
    const token = ++this.#token;
    this.loading = true;
    this.error = null;
    if (!keep) this.data = null;
    try {
      const value = await fetch();
      if (token === this.#token) this.data = value;
    } catch (e) {
      if (token === this.#token) this.error = errorMessage(e);
    } finally {
      if (token === this.#token) this.loading = false;
    }
  }
}
