/**
 * `sluice/gateway`: the HTTP gateway (issue #4). Principals authenticate with bearer JWTs or API
 * keys; handlers run at a label fixed at invocation and reach the store and the engine only
 * through it; responses are checked against the principal's clearance (a refused response is
 * "not found"); pipeline output streams out over Server-Sent Events.
 */
export { Gateway, type GatewayOptions, type Method, type Route } from './gateway/gateway.js';
export {
  configSchema,
  loadConfig,
  parseConfig,
  type GatewayConfig,
  type GatewayConfigInput,
  type PrincipalConfig,
} from './gateway/config.js';
export { hashApiKey, newApiKey } from './gateway/api-key.js';
export type { HandlerCode } from './gateway/handler-code.js';
export type {
  GatewayRequest,
  GatewayResponse,
  Handler,
  HandlerContext,
  PublishPartsOptions,
} from './gateway/handler.js';
export {
  current,
  shim,
  type PlainHandler,
  type PlainRequest,
  type PlainResult,
} from './gateway/shim.js';
export type { StreamRoute } from './gateway/sse.js';
export { GatewayError } from './gateway/http-error.js';
export { LABEL_HEADER } from './gateway/invocation-label.js';
export { createTags, type Principal } from './gateway/principals.js';
