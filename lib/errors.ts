/**
 * Typed errors. One base class; every subclass sets `name`, carries the `cause` and the
 * context an operator needs (ARN, backup key, field). `describeError` in the handlers and the
 * CLI maps them to outcomes in one place.
 */
export class SyncerError extends Error {
  /** Extra facts for logs and error replies (never secrets). */
  readonly context: Record<string, unknown>;
  /** True when the caller supplied bad input: report the message, no stack trace. */
  readonly userError: boolean = false;

  constructor(message: string, options: { cause?: unknown; context?: Record<string, unknown> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SyncerError';
    this.context = options.context ?? {};
  }
}

/** The configuration is missing, malformed or names an unknown field. */
export class ConfigError extends SyncerError {
  override readonly userError = true;
  constructor(message: string, options: { cause?: unknown; context?: Record<string, unknown> } = {}) {
    super(message, options);
    this.name = 'ConfigError';
  }
}

/** The configuration source (SSM Parameter Store) could not be read; not the caller's mistake. */
export class ConfigSourceError extends SyncerError {
  constructor(message: string, options: { cause?: unknown; context?: Record<string, unknown> } = {}) {
    super(message, options);
    this.name = 'ConfigSourceError';
  }
}

/** An input file or event (IAM JSON, ConfigMap YAML, invoke payload) is unusable. */
export class InputError extends SyncerError {
  override readonly userError = true;
  constructor(message: string, options: { cause?: unknown; context?: Record<string, unknown> } = {}) {
    super(message, options);
    this.name = 'InputError';
  }
}

/** IAM could not be read completely. Never interpreted as "principals were deleted". */
export class DiscoveryError extends SyncerError {
  constructor(message: string, options: { cause?: unknown; context?: Record<string, unknown> } = {}) {
    super(message, options);
    this.name = 'DiscoveryError';
  }
}

/** The cluster endpoint, token or Kubernetes API failed (other than a write conflict). */
export class ClusterAccessError extends SyncerError {
  constructor(message: string, options: { cause?: unknown; context?: Record<string, unknown> } = {}) {
    super(message, options);
    this.name = 'ClusterAccessError';
  }
}

/** aws-auth changed between our read and our write (HTTP 409). */
export class WriteConflictError extends SyncerError {
  constructor(message: string, options: { cause?: unknown; context?: Record<string, unknown> } = {}) {
    super(message, options);
    this.name = 'WriteConflictError';
  }
}

/** The backup could not be written or read back; nothing was written to the cluster. */
export class BackupError extends SyncerError {
  constructor(message: string, options: { cause?: unknown; context?: Record<string, unknown> } = {}) {
    super(message, options);
    this.name = 'BackupError';
  }
}

/** A backup object failed validation (unknown format, checksum mismatch, unparseable). */
export class BackupIntegrityError extends SyncerError {
  override readonly userError = true;
  constructor(message: string, options: { cause?: unknown; context?: Record<string, unknown> } = {}) {
    super(message, options);
    this.name = 'BackupIntegrityError';
  }
}

/** A guard refused the write. `reasons` lists every refusal, not just the first. */
export class GuardRefusedError extends SyncerError {
  readonly reasons: readonly { code: string; message: string }[];
  constructor(reasons: readonly { code: string; message: string }[], context: Record<string, unknown> = {}) {
    super(`refused: ${reasons.map((r) => r.message).join('; ')}`, { context });
    this.name = 'GuardRefusedError';
    this.reasons = reasons;
  }
}

/** A short, stack-free description of any thrown value, safe for logs and replies. */
export function describeError(err: unknown): { name: string; message: string; userError: boolean; context: Record<string, unknown> } {
  if (err instanceof SyncerError) {
    return { name: err.name, message: err.message, userError: err.userError, context: err.context };
  }
  if (err instanceof Error) return { name: err.name, message: err.message, userError: false, context: {} };
  return { name: 'Error', message: String(err), userError: false, context: {} };
}
