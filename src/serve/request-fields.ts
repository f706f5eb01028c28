// Reading one field of an OpenAI request body with a type and range check; each failure is a 400 that names
// the field (OpenAI's `param`), so a client learns exactly what to fix. Browser-safe.
import { ApiError } from './openai-types.js';

export type Body = Record<string, unknown>;

/** the body as an object, or 400 invalid_body */
export function asBody(v: unknown): Body {
  if (!isObject(v)) throw new ApiError(400, 'The request body must be a JSON object.', 'invalid_request_error', null, 'invalid_body');
  return v;
}

export function isObject(v: unknown): v is Body {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** a number in [min, max] (or (min, max] with exclusiveMin); undefined when absent or null */
export function optNumber(body: Body, key: string, min: number, max: number, exclusiveMin = false, param = key): number | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw invalid(param, `Invalid type for '${param}': expected a number, but got ${typeName(v)}.`);
  if (v < min || v > max || (exclusiveMin && v === min)) {
    throw invalid(param, `Invalid '${param}': ${v} is out of range; expected a value ${exclusiveMin ? '>' : '>='} ${min} and <= ${max}.`, 'invalid_value');
  }
  return v;
}

/** an integer in [min, max]; undefined when absent or null */
export function optInt(body: Body, key: string, min: number, max: number, param = key): number | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw invalid(param, `Invalid type for '${param}': expected an integer, but got ${typeName(v)}.`);
  if (v < min) throw invalid(param, `Invalid '${param}': ${v} is less than the minimum of ${min}.`, 'invalid_value');
  if (v > max) throw invalid(param, `Invalid '${param}': ${v} is greater than the maximum of ${max}.`, 'invalid_value');
  return v;
}

/** a boolean; undefined when absent or null */
export function optBool(body: Body, key: string, param = key): boolean | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw invalid(param, `Invalid type for '${param}': expected a boolean, but got ${typeName(v)}.`);
  return v;
}

/** a string; undefined when absent or null */
export function optString(body: Body, key: string, param = key): string | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw invalid(param, `Invalid type for '${param}': expected a string, but got ${typeName(v)}.`);
  return v;
}

/** an object; undefined when absent or null */
export function optObject(body: Body, key: string, param = key): Body | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) throw invalid(param, `Invalid type for '${param}': expected an object, but got ${typeName(v)}.`);
  return v;
}

/** 400 invalid_request_error naming `param` */
export function invalid(param: string, message: string, code = 'invalid_type'): ApiError {
  return new ApiError(400, message, 'invalid_request_error', param, code);
}

/** 400 unsupported_parameter: a field OpenAI has and this server does not implement */
export function unsupported(param: string, why = 'is not supported by this server'): ApiError {
  return invalid(param, `Unsupported parameter: '${param}' ${why}.`, 'unsupported_parameter');
}

/** 'a string', 'an integer', … for error messages */
export function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return 'a string';
  if (typeof v === 'number') return Number.isInteger(v) ? 'an integer' : 'a decimal';
  if (typeof v === 'boolean') return 'a boolean';
  return `an ${typeof v}`;
}
