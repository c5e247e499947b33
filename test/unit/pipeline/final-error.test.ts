import { describe, expect, it } from 'vitest'
import { GatewayError } from '../../../src/core/errors.ts'
import { finalError, supersedes } from '../../../src/pipeline/upstream-error.ts'
import type { AttemptFailure } from '../../../src/routing/plan.ts'

const cannot = (param?: string): AttemptFailure => ({ kind: 'unservable', error: new GatewayError({ status: 400, code: 'invalid_request', message: param ?? 'generic', param }) })
const vendor429: AttemptFailure = { kind: 'provider', error: { status: 429, kind: 'rate_limited', code: 'rate_limit_exceeded', message: 'slow down', retryAfterMs: 7000 } }
const vendor500: AttemptFailure = { kind: 'provider', error: { status: 500, kind: 'server', code: 'upstream_error', message: 'down' } }
const circuit: AttemptFailure = { kind: 'unavailable', reason: 'open' }

/** The failure kept after seeing these in order, as handle-call keeps it. */
const kept = (...seen: AttemptFailure[]): AttemptFailure | undefined => seen.reduce<AttemptFailure | undefined>((k, f) => (supersedes(f, k) ? f : k), undefined)

describe('the failure the client hears', () => {
  it('a vendor failure beats a later "cannot translate" and a later circuit skip; the latest vendor failure wins', () => {
    expect(kept(vendor429, cannot('previous_response_id'))).toBe(vendor429)
    expect(kept(cannot('x'), vendor429)).toBe(vendor429)
    expect(kept(vendor429, circuit)).toBe(vendor429)
    expect(kept(vendor429, vendor500)).toBe(vendor500)
  })

  it('a target unusable for now beats one that cannot take the request; the first skip stays', () => {
    expect(kept(cannot('x'), circuit)).toBe(circuit)
    const other: AttemptFailure = { kind: 'unavailable', reason: 'keys resting' }
    expect(kept(circuit, other)).toBe(circuit)
  })

  it('among translation refusals, the first that names a field', () => {
    const a = cannot()
    const b = cannot('input[0].content[0].image_url')
    const c = cannot('n')
    expect(kept(a, b, c)).toBe(b)
    expect(finalError(kept(a, b, c), 'ant')).toMatchObject({ status: 400, param: 'input[0].content[0].image_url' })
  })
})
