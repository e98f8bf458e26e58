/**
 * Registry failures as core's RegistryError: the HTTP status mapped to a
 * category, the first OCI error code of the body (distribution spec
 * "Error Codes": `{"errors":[{"code","message","detail"}]}`), and the
 * registry, repository and digest the request was about, all in one line.
 */
import { RegistryError, type ErrorCategory, type RegistryErrorDetails } from '@tsbuild/core';

export interface OciErrorBody {
  code: string;
  message?: string;
}

/** The `errors` array of a distribution error body; [] when the body is not one. */
export function parseErrorBody(text: string): OciErrorBody[] {
  try {
    const json = JSON.parse(text) as { errors?: unknown };
    if (!Array.isArray(json.errors)) return [];
    return json.errors
      .filter((e): e is { code: string; message?: unknown } => typeof e === 'object' && e !== null && typeof (e as { code?: unknown }).code === 'string')
      .map((e) => (typeof e.message === 'string' ? { code: e.code, message: e.message } : { code: e.code }));
  } catch {
    return [];
  }
}

function categoryForStatus(status: number, ociCode?: string): ErrorCategory {
  if (ociCode === 'UNAUTHORIZED' || status === 401) return 'Unauthenticated';
  if (ociCode === 'DENIED' || status === 403) return 'PermissionDenied';
  if (status === 404 || (ociCode?.endsWith('_UNKNOWN') ?? false)) return 'NotFound';
  if (status === 429 || status >= 500 || status === 0) return 'Unavailable';
  if (status === 409) return 'FailedPrecondition';
  return 'InvalidArgument';
}

export interface ErrorContext extends RegistryErrorDetails {
  /** What was being done: `GET manifest`, `PUT blob upload`. */
  operation: string;
}

/** undici's idle timeouts (http-transport.ts sets them), in words; undefined for other failures. */
function timeoutOf(cause: unknown): string | undefined {
  for (let e = cause; e instanceof Error; e = e.cause) {
    const code = (e as { code?: unknown }).code;
    if (code === 'UND_ERR_HEADERS_TIMEOUT') return 'no response from the registry within the idle timeout';
    if (code === 'UND_ERR_BODY_TIMEOUT') return 'the response body stalled longer than the idle timeout';
  }
  return undefined;
}

/** `registry 127.0.0.1:5000, repository app, digest sha256:…: GET manifest: 404 MANIFEST_UNKNOWN: manifest unknown` */
export function registryError(ctx: ErrorContext, status: number, bodyText = '', cause?: unknown): RegistryError {
  const first = parseErrorBody(bodyText)[0];
  const where = [
    ctx.registry && `registry ${ctx.registry}`,
    ctx.repository && `repository ${ctx.repository}`,
    ctx.digest && `digest ${ctx.digest}`,
  ].filter(Boolean).join(', ');
  const timeout = status === 0 ? timeoutOf(cause) : undefined;
  const what = timeout ? 'timed out' : status === 0 ? 'connection failed' : `${status}${first ? ` ${first.code}` : ''}`;
  const detail = timeout ?? first?.message ?? (cause instanceof Error ? cause.message : bodyText.trim().slice(0, 200));
  const message = `${where ? `${where}: ` : ''}${ctx.operation}: ${what}${detail ? `: ${detail}` : ''}`;
  const options: ConstructorParameters<typeof RegistryError>[4] = { registry: ctx.registry, repository: ctx.repository, digest: ctx.digest };
  if (status === 0) options.code = 'REGISTRY_UNREACHABLE';
  if (cause !== undefined) options.cause = cause;
  return new RegistryError(categoryForStatus(status, first?.code), message, status, first?.code, options);
}
