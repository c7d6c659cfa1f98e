import { afterEach, describe, expect, it, vi } from 'vitest'
import { copyText } from './clipboard'

/** a document whose execCommand('copy') answers `ok`, recording what was selected when it ran */
function fakeDocument(ok: boolean) {
  const copied: string[] = []
  const exec = vi.fn((command: string) => {
    const area = document.body.querySelector('textarea')
    if (command === 'copy' && area) copied.push(area.value)
    return ok
  })
  Object.defineProperty(document, 'execCommand', { value: exec, configurable: true })
  return { doc: document, exec, copied }
}

afterEach(() => {
  Reflect.deleteProperty(document, 'execCommand')
  document.body.innerHTML = ''
})

describe('copyText', () => {
  it('uses the Clipboard API when there is one', async () => {
    const writeText = vi.fn(() => Promise.resolve())
    const { exec } = fakeDocument(true)
    expect(await copyText('https://koi.example.com/x', { clipboard: { writeText } })).toBe(true)
    expect(writeText).toHaveBeenCalledWith('https://koi.example.com/x')
    expect(exec).not.toHaveBeenCalled()
  })

  it('copies through a hidden textarea without the Clipboard API (plain HTTP), and leaves nothing behind', async () => {
    const { doc, copied } = fakeDocument(true)
    expect(await copyText('http://10.0.0.5:8080/x', {}, doc)).toBe(true)
    expect(copied).toEqual(['http://10.0.0.5:8080/x'])
    expect(document.body.querySelector('textarea')).toBeNull()
  })

  it('falls back when the Clipboard API refuses', async () => {
    const writeText = vi.fn(() => Promise.reject(new Error('NotAllowedError')))
    const { doc, copied } = fakeDocument(true)
    expect(await copyText('u', { clipboard: { writeText } }, doc)).toBe(true)
    expect(copied).toEqual(['u'])
  })

  it('is false when nothing works', async () => {
    const writeText = vi.fn(() => Promise.reject(new Error('NotAllowedError')))
    const { doc } = fakeDocument(false)
    expect(await copyText('u', { clipboard: { writeText } }, doc)).toBe(false)
    expect(document.body.querySelector('textarea')).toBeNull()
    Reflect.deleteProperty(document, 'execCommand')
    expect(await copyText('u', null, null)).toBe(false)
  })
})
