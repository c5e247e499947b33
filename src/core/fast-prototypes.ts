/**
 * Puts String.prototype back into V8's fast property layout after a dependency subclassed String.
 *
 * ioredis defines `class VerbatimString extends String` (RESP3 verbatim strings) when it loads.
 * Setting up a subclass leaves String.prototype in V8's dictionary mode, and V8 only optimizes a
 * prototype again when an object (not a primitive) is looked up through it, which a gateway that
 * never meets a RESP3 verbatim string never does. Until then every string method call in optimized
 * code (`s.trim()`, `s.indexOf()`, `s.slice()`, ours and those in Node's HTTP code and undici)
 * cannot be inlined and goes through a generic property lookup in a hash table: about 26k of the
 * ~330k instructions a proxied request took (measured with `npm run bench:instructions`).
 *
 * One property load through an ordinary object whose prototype is String.prototype makes V8
 * optimize that prototype chain; the probe needs an own property, or V8 takes a path that does not.
 * Call it after every module has loaded (startGateway does).
 */
export function restoreFastStringPrototype(): void {
  const probe = Object.create(String.prototype) as { own?: number; trim?: unknown }
  probe.own = 1
  for (let i = 0; i < 4; i++) void probe.trim
}
