// The build server (tsbuild serve), its client (remote builds), and the certificates for mutual TLS between them.
export { startServer, type BuildServer, type ServeOptions } from './server.js';
export type { ServerGcOptions } from './gc.js';
export type { Entitlement } from './build-handler.js';
export { remoteBuild, type ServerTarget, type RemoteBuildResult, type RemoteBuildExtras } from './client.js';
export { createCerts, type CreateCertsOptions, type CreatedCerts } from './certs.js';
export { parseAddress, formatAddress, type ServerAddress } from './address.js';
export { DEFAULT_LIMITS, type Limits } from './limits.js';
export { ProtocolError } from './wire.js';
