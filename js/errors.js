// Node-style errors: `code` on the instance, names like Node's (`Error [CODE]`
// shows in stack traces the same way).

/**
 * @param {new (message: string) => Error} Base
 * @param {string} code
 * @param {string} message
 * @param {Record<string, unknown>} [props]
 */
export function nodeError(Base, code, message, props) {
  const err = new Base(message);
  Object.defineProperty(err, 'code', { value: code, enumerable: true, writable: true, configurable: true });
  if (props) Object.assign(err, props);
  return err;
}

/** An error raised by the engine (a plain Error with code/reason), as Node shapes OpenSSL's. */
export function engineError(e) {
  if (e instanceof Error) return e;
  return nodeError(Error, 'ERR_SSL_INTERNAL_ERROR', String(e));
}

export const invalidArgType = (name, expected, actual) =>
  nodeError(TypeError, 'ERR_INVALID_ARG_TYPE',
    `The "${name}" ${name.includes('.') ? 'property' : 'argument'} must be ${expected}. Received ${describe(actual)}`);

/** Node's validateInt32: a number, an integer, within [min, max]. */
export function validateInt32(value, name, min = -2147483648, max = 2147483647) {
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number', value);
  if (!Number.isInteger(value)) {
    throw nodeError(RangeError, 'ERR_OUT_OF_RANGE', `The value of "${name}" is out of range. It must be an integer. Received ${value}`);
  }
  if (value < min || value > max) {
    throw nodeError(RangeError, 'ERR_OUT_OF_RANGE', `The value of "${name}" is out of range. It must be >= ${min} && <= ${max}. Received ${value}`);
  }
}

export const invalidArgValue = (name, value, reason = 'is invalid') =>
  nodeError(TypeError, 'ERR_INVALID_ARG_VALUE',
    `The argument '${name}' ${reason}. Received ${describe(value)}`);

function describe(v) {
  if (v == null) return String(v);
  if (typeof v === 'function') return `function ${v.name}`;
  if (typeof v === 'object') return v.constructor?.name ? `an instance of ${v.constructor.name}` : 'an object';
  const s = typeof v === 'string' ? `'${v.length > 28 ? `${v.slice(0, 25)}...` : v}'` : String(v);
  return `type ${typeof v} (${s})`;
}
