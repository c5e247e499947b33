/** Spill files: what identifies their store, and rows of an older layout read into the current one. */
import { describe, expect, it } from 'vitest'
import { parseSpill, storeIdentity } from '../../../src/ledger/spill.ts'
import { LEDGER_COLUMNS } from '../../../src/ledger/schema.ts'

describe('ledger spill files', () => {
  it('belong to a database and schema, whatever the host, port or credentials', () => {
    expect(storeIdentity('postgres://u:secret@db-a:5432/app?schema=tenant_a')).toBe('app/tenant_a')
    expect(storeIdentity('postgresql://u@db-b:6543/app?schema=tenant_a&sslmode=require')).toBe('app/tenant_a')
    expect(storeIdentity('postgres://u@db/app')).toBe('app/public')
  })

  it('read rows in the current column order, null where an older file has no column', () => {
    const older = LEDGER_COLUMNS.filter((c) => c !== 'client')
    const row = older.map((c) => (c === 'request_id' ? 'r1' : c === 'ts' ? 1767225600000 : null))
    const text = `${JSON.stringify({ format: 'switchboard-ledger-spill', version: 1, store: 'app/public', columns: [...older].reverse() })}\n${JSON.stringify([...row].reverse())}\n\n`
    const { header, rows } = parseSpill(text)
    expect(header.store).toBe('app/public')
    expect(rows).toHaveLength(1)
    expect(rows[0]![LEDGER_COLUMNS.indexOf('ts')]).toBe(1767225600000)
    expect(rows[0]![LEDGER_COLUMNS.indexOf('request_id')]).toBe('r1')
    expect(rows[0]![LEDGER_COLUMNS.indexOf('client')]).toBeNull()
    expect(rows[0]).toHaveLength(LEDGER_COLUMNS.length)
  })

  it('refuse a file that is not one', () => {
    expect(() => parseSpill('{"hello":1}\n[1]\n')).toThrow('not a ledger spill file')
  })
})
