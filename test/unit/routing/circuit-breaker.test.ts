import { describe, expect, it } from 'vitest'
import { createCircuitBreaker, healthVerdict } from '../../../src/routing/circuit-breaker.ts'

const settings = { failures: 3, windowMs: 1000, cooldownMs: 500 }

describe('circuit breaker', () => {
  it('opens after N failures within the window, not when they are spread out', () => {
    const b = createCircuitBreaker(settings)
    b.record('unhealthy', 0)
    b.record('unhealthy', 600)
    b.record('unhealthy', 1100) // the first has left the window
    expect(b.state(1100)).toBe('closed')
    b.record('unhealthy', 1200)
    expect(b.state(1200)).toBe('open')
    expect(b.admit(1200)).toBe(false)
    expect(b.admissible(1699)).toBe(false)
    expect(b.waitMs(1300)).toBe(400)
  })

  it('successes and neutral outcomes do not count as failures', () => {
    const b = createCircuitBreaker(settings)
    b.record('unhealthy', 0)
    b.record('healthy', 1)
    b.record('neutral', 2)
    b.record('unhealthy', 3)
    expect(b.state(3)).toBe('closed')
  })

  it('after the cooldown lets exactly one probe through; success closes', () => {
    const b = createCircuitBreaker(settings)
    for (let i = 0; i < 3; i++) b.record('unhealthy', 0)
    expect(b.state(500)).toBe('half-open')
    expect(b.admissible(500)).toBe(true)
    expect(b.admit(500)).toBe(true)
    expect(b.admissible(501)).toBe(false)
    expect(b.admit(501)).toBe(false)
    expect(b.admit(502)).toBe(false)
    b.record('healthy', 600)
    expect(b.state(600)).toBe('closed')
    expect(b.admit(600)).toBe(true)
    expect(b.admit(600)).toBe(true)
  })

  it('a failed probe re-opens for another cooldown', () => {
    const b = createCircuitBreaker(settings)
    for (let i = 0; i < 3; i++) b.record('unhealthy', 0)
    expect(b.admit(500)).toBe(true)
    b.record('unhealthy', 550)
    expect(b.state(550)).toBe('open')
    expect(b.admit(1049)).toBe(false)
    expect(b.state(1050)).toBe('half-open')
    expect(b.admit(1050)).toBe(true)
  })

  it('a neutral probe result frees the slot; a silent probe frees it after a cooldown', () => {
    const b = createCircuitBreaker(settings)
    for (let i = 0; i < 3; i++) b.record('unhealthy', 0)
    expect(b.admit(500)).toBe(true)
    b.record('neutral', 510)
    expect(b.state(510)).toBe('half-open')
    expect(b.admit(511)).toBe(true)
    expect(b.admit(600)).toBe(false)
    expect(b.admit(1011)).toBe(true) // the probe at 511 never reported
  })

  it('late results while open change nothing', () => {
    const b = createCircuitBreaker(settings)
    for (let i = 0; i < 3; i++) b.record('unhealthy', 0)
    b.record('healthy', 100)
    expect(b.state(100)).toBe('open')
  })

  it('classifies outcomes by what they say about the target', () => {
    expect(healthVerdict({ ok: true })).toBe('healthy')
    for (const f of ['server', 'overloaded', 'connect_timeout', 'first_byte_timeout', 'idle_timeout', 'connection_refused', 'connection_reset', 'network']) {
      expect(healthVerdict({ ok: false, failure: f })).toBe('unhealthy')
    }
    for (const f of ['bad_request', 'context_length', 'content_filter', 'not_found', 'rate_limited', 'auth']) {
      expect(healthVerdict({ ok: false, failure: f })).toBe('healthy')
    }
    for (const f of ['aborted', 'total_timeout', 'circuit_open', 'unavailable']) {
      expect(healthVerdict({ ok: false, failure: f })).toBe('neutral')
    }
  })
})
