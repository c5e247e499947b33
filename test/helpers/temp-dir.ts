/**
 * Temporary directories for one test file, removed when its tests are done. Call `tempDirs()` at
 * the top of the file (collection time, so its afterAll is registered first and runs last, after
 * the file's own clean-up has stopped any gateway using them); the function it returns makes
 * directories anywhere, hooks and tests included.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll } from 'vitest'

export function tempDirs(): (prefix: string) => string {
  const made: string[] = []
  afterAll(() => {
    for (const dir of made) rmSync(dir, { recursive: true, force: true })
  })
  return (prefix) => {
    const dir = mkdtempSync(join(tmpdir(), prefix))
    made.push(dir)
    return dir
  }
}
