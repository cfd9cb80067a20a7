/**
 * The gateway's one error shape, `{ "error": { "code": "...", "message": "..." } }`, and the one
 * "not found" response that unknown routes, refused responses and refused streams all send
 * (same status, same bytes, same headers).
 */
import type { Socket } from 'node:net';
import type { FastifyReply } from 'fastify';
import { SluiceError } from '../errors.js';

/** An HTTP-level refusal with a status and a stable, value-free message. */
export class GatewayError extends SluiceError {
  readonly status: number;
  readonly httpCode: string;
  constructor(status: number, httpCode: string, message: string) {
    super('E_GATEWAY', message);
    this.status = status;
    this.httpCode = httpCode;
  }
}

export function errorBody(code: string, message: string): string {
  return JSON.stringify({ error: { code, message } });
}

const JSON_TYPE = 'application/json; charset=utf-8';
const NOT_FOUND_BODY = errorBody('not_found', 'not found');

/** Send the error shape; nothing else is set (no stack, no echo of the input). */
export function sendError(
  reply: FastifyReply,
  status: number,
  code: string,
  message: string,
  headers: Readonly<Record<string, string>> = {},
): FastifyReply {
  return reply.code(status).headers(headers).type(JSON_TYPE).send(errorBody(code, message));
}

/** The canonical "not found": an unknown route and a refused response look exactly like this. */
export function sendNotFound(reply: FastifyReply): FastifyReply {
  return reply.code(404).type(JSON_TYPE).send(NOT_FOUND_BODY);
}

export const UNAUTHENTICATED = { 'www-authenticate': 'Bearer' } as const;

/**
 * Map an error raised while reading the request (Fastify's body parsing and limits) to a 4xx
 * with a stable code; anything else is a 500 that says nothing about its cause.
 */
export function describeRequestError(err: unknown): {
  status: number;
  code: string;
  message: string;
} {
  if (err instanceof GatewayError) {
    return { status: err.status, code: err.httpCode, message: err.message };
  }
  const e = err as { code?: unknown; statusCode?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  const status = typeof e?.statusCode === 'number' ? e.statusCode : 500;
  switch (code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, code: 'payload_too_large', message: 'the request body is too large' };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_TYPE':
      return {
        status: 415,
        code: 'unsupported_media_type',
        message: 'send the body as application/json',
      };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { status: 400, code: 'malformed_json', message: 'the JSON body is empty' };
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return { status: 400, code: 'malformed_json', message: 'the body is not valid JSON' };
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { status: 400, code: 'bad_request', message: 'the content length is wrong' };
    default:
      break;
  }
  if (err instanceof SyntaxError || (status === 400 && code.startsWith('FST_ERR_CTP'))) {
    return { status: 400, code: 'malformed_json', message: 'the body is not valid JSON' };
  }
  if (status >= 400 && status < 500) {
    return { status, code: 'bad_request', message: 'the request is malformed' };
  }
  return { status: 500, code: 'internal', message: 'internal error' };
}

/**
 * Errors Node's HTTP parser raises before a request exists (headers too large, a malformed
 * request line, a request that took too long): the same error shape, written on the socket,
 * which is then closed.
 */
export function clientErrorHandler(err: Error & { code?: unknown }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  let status = 400;
  let body = errorBody('bad_request', 'the request is malformed');
  let reason = 'Bad Request';
  if (err.code === 'HPE_HEADER_OVERFLOW') {
    status = 431;
    reason = 'Request Header Fields Too Large';
    body = errorBody('headers_too_large', 'the request headers are too large');
  } else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    status = 408;
    reason = 'Request Timeout';
    body = errorBody('request_timeout', 'the request took too long to arrive');
  }
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${String(status)} ${reason}\r\nContent-Type: ${JSON_TYPE}\r\n` +
        `Content-Length: ${String(Buffer.byteLength(body))}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}
