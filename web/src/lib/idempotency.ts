/**
 * One Idempotency-Key per attempt: a retry of the same attempt (same request body, not yet
 * answered) sends the same key, so a double tap or a retry after a lost answer never sends
 * twice; a changed form or a finished attempt starts a new key.
 */
export class Attempt {
  private key: string | null = null;
  private fingerprint: string | null = null;

  constructor(private readonly newKey: () => string = () => crypto.randomUUID()) {}

  keyFor(body: unknown): string {
    const fingerprint = JSON.stringify(body);
    if (this.key === null || this.fingerprint !== fingerprint) {
      this.key = this.newKey();
      this.fingerprint = fingerprint;
    }
    return this.key;
  }

  /** The server answered (success or a refusal): the next submit is a new attempt. */
  finish(): void {
    this.key = null;
    this.fingerprint = null;
  }
}
