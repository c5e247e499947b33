import { afterEach, describe, expect, it } from 'vitest'
import { get_encoding } from 'tiktoken'
import { createTokenCounter, type TokenCounter } from '../../../src/accounting/token-counter.ts'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('token counter (tiktoken o200k_base in a worker thread)', () => {
  let counter: TokenCounter | undefined
  afterEach(async () => {
    await counter?.close()
    counter = undefined
  })

  it('counts what tiktoken counts in this thread, text by text, in order', async () => {
    counter = createTokenCounter()
    const texts = ['hello world', '', 'Die Füchse springen über den Zaun. 狐狸跳过篱笆。', JSON.stringify([{ type: 'function', function: { name: 'read_file' } }])]
    const local = get_encoding('o200k_base')
    const expected = texts.map((t) => local.encode_ordinary(t).length)
    local.free()
    expect(await counter.count(texts)).toEqual(expected)
    expect(expected[0]).toBe(2)
  })

  it("counts a special token's text as ordinary text instead of failing", async () => {
    counter = createTokenCounter()
    const [n] = await counter.count(['before <|endoftext|> after'])
    expect(n).toBeGreaterThan(3)
  })

  it('starts only when asked, stops once idle, and starts again on the next count', async () => {
    counter = createTokenCounter({ idleMs: 50 })
    expect(counter.running()).toBe(false)
    const first = counter.count(['one two three'])
    expect(counter.running()).toBe(true)
    await first
    for (let i = 0; i < 100 && counter.running(); i++) await sleep(20)
    expect(counter.running()).toBe(false)
    expect(await counter.count(['one two three'])).toEqual(await first)
    expect(counter.running()).toBe(true)
  })

  it('answers concurrent counts each with its own result', async () => {
    counter = createTokenCounter()
    const texts = Array.from({ length: 20 }, (_, i) => 'fox '.repeat(i * 7))
    const local = get_encoding('o200k_base')
    const expected = texts.map((t) => local.encode_ordinary(t).length)
    local.free()
    expect(new Set(expected).size).toBe(texts.length)
    const results = await Promise.all(texts.map((t) => counter!.count([t])))
    expect(results.map((r) => r[0])).toEqual(expected)
  })

  it('rejects counts still waiting when closed', async () => {
    counter = createTokenCounter()
    const pending = counter.count(['x'.repeat(10_000)])
    await counter.close()
    await expect(pending).rejects.toThrow()
  })
})
