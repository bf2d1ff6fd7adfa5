import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AuditTrail } from '../audit/audit-trail';
import { newApiKey } from '../auth/api-key-verifier';
import type { ApiKey } from '../auth/api-key.entity';
import { ApiKeyRepository } from '../auth/api-key.repository';
import { API_KEY_SCOPES, type AuthUser } from '../auth/auth-user';
import { TokenVerifier } from '../auth/token-verifier';
import {
  ForbiddenError,
  NotFoundError,
  ValidationFailedError,
} from '../common/errors/domain-errors';
import {
  ApiKeyView,
  CreateApiKeyDto,
  CreatedApiKey,
  DEFAULT_KEY_LIFETIME_DAYS,
  MAX_KEY_LIFETIME_DAYS,
} from './dto/api-key.dto';
import { WorkerRepository } from './worker.repository';

const DAY_MS = 86_400_000;

const view = (key: ApiKey): ApiKeyView => ({
  id: key.id,
  worker_id: key.worker_id,
  name: key.name,
  prefix: key.prefix,
  scopes: key.scopes,
  projects: key.projects,
  expires_at: key.expires_at,
  created_at: key.created_at,
  last_used_at: key.last_used_at,
});

/** What the audit log keeps of a key: enough to recognise it, never the key or its hash. */
const auditContext = (key: ApiKey) => ({
  worker_id: key.worker_id,
  key_id: key.id,
  name: key.name,
  prefix: key.prefix,
  scopes: key.scopes,
  projects: key.projects,
  expires_at: key.expires_at.toISOString(),
});

/**
 * A worker's API keys. An admin manages anyone's; a worker its own. A key never creates another
 * key: it could otherwise outlive its expiry, or shed its scopes and project limit.
 */
@Injectable()
export class WorkerKeysService {
  constructor(
    private readonly workers: WorkerRepository,
    private readonly keys: ApiKeyRepository,
    private readonly verifier: TokenVerifier,
    private readonly trail: AuditTrail,
  ) {}

  async create(workerId: string, dto: CreateApiKeyDto, caller: AuthUser): Promise<CreatedApiKey> {
    if (caller.keyId) {
      throw new ForbiddenError('API keys are created with a login token, not with an API key');
    }
    await this.assertManages(workerId, caller);
    const { key, prefix, secretHash } = newApiKey();
    const created = await this.keys.insert({
      id: randomUUID(),
      worker_id: workerId,
      name: dto.name,
      prefix,
      secret_hash: secretHash,
      scopes: API_KEY_SCOPES.filter((scope) => (dto.scopes ?? API_KEY_SCOPES).includes(scope)),
      projects: dto.projects ?? null,
      expires_at: expiryOf(dto.expires_at),
    });
    this.trail.record({ context: auditContext(created) });
    return Object.assign(new CreatedApiKey(), view(created), { key });
  }

  async list(workerId: string, caller: AuthUser): Promise<ApiKeyView[]> {
    await this.assertManages(workerId, caller);
    return (await this.keys.liveOf(workerId)).map(view);
  }

  async revoke(workerId: string, keyId: string, caller: AuthUser): Promise<void> {
    await this.assertManages(workerId, caller);
    const revoked = await this.keys.revoke(workerId, keyId);
    if (!revoked) {
      throw new NotFoundError(`Worker ${workerId} has no key ${keyId}`, 'api_key_not_found');
    }
    this.trail.record({ context: auditContext(revoked) });
    // This replica stops at once; the others when their cached check runs out.
    this.verifier.forgetKey(keyId);
  }

  /** 403 unless the caller is an admin or the worker itself; then 404 for an unknown worker. */
  private async assertManages(workerId: string, caller: AuthUser): Promise<void> {
    if (!caller.isAdmin && caller.id !== workerId) {
      throw new ForbiddenError("Only admins may manage another worker's keys", 'admin_required');
    }
    if (!(await this.workers.find(workerId))) {
      throw new NotFoundError(`Worker ${workerId} not found`, 'worker_not_found');
    }
  }
}

/** The requested expiry, or the default; 422 in the past or too far ahead. */
function expiryOf(requested: Date | undefined): Date {
  const now = Date.now();
  if (requested === undefined) return new Date(now + DEFAULT_KEY_LIFETIME_DAYS * DAY_MS);
  if (requested.getTime() <= now) {
    throw ValidationFailedError.field('expires_at', 'expires_at must be in the future');
  }
  if (requested.getTime() > now + MAX_KEY_LIFETIME_DAYS * DAY_MS) {
    throw ValidationFailedError.field(
      'expires_at',
      `expires_at must be at most ${MAX_KEY_LIFETIME_DAYS} days from now`,
    );
  }
  return requested;
}
