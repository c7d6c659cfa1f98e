import { describe, expect, it } from 'vitest'
import zhCN from './langs/zh-CN.json'
import enUS from './langs/en-US.json'
import { isLocale, LOCALE_STORAGE_KEY, LOCALES, loadLocale, localeName, saveLocale } from './index'
import yaml from '../../../api/openapi.yaml?raw'

function keys(obj: object, prefix = ''): string[] {
  return Object.entries(obj).flatMap(([k, v]) =>
    v && typeof v === 'object' ? keys(v as object, `${prefix}${k}.`) : [`${prefix}${k}`],
  )
}

function memoryStorage(initial: Record<string, string> = {}) {
  const data = { ...initial }
  return {
    getItem: (k: string) => (k in data ? data[k] : null),
    setItem: (k: string, v: string) => void (data[k] = v),
    data,
  }
}

describe('locales', () => {
  it('zh-CN and en-US have exactly the same keys', () => {
    expect(keys(zhCN).sort()).toEqual(keys(enUS).sort())
  })

  it('every error reason in the API contract has a translation', () => {
    const block = yaml.slice(yaml.indexOf('Stable key.'), yaml.indexOf('message:', yaml.indexOf('Stable key.')))
    const reasons = [...block.matchAll(/`([a-z_]+)`/g)].map((m) => m[1])
    expect(reasons.length).toBeGreaterThan(10)
    for (const r of reasons) expect(Object.keys(zhCN.errors), r).toContain(r)
  })

  it('texts without a wait exist only for reasons that have a text with one', () => {
    for (const r of Object.keys(zhCN.errorsNoWait)) {
      expect(Object.keys(zhCN.errors), r).toContain(r)
      expect((zhCN.errors as Record<string, string>)[r], r).toMatch(/\{[nd]\}/)
    }
  })

  it('one list of languages, each named in itself, for every language menu', () => {
    expect(LOCALES.map((l) => l.code)).toEqual(['zh-CN', 'en-US'])
    expect(localeName('zh-CN')).toBe('中文')
    expect(localeName('en-US')).toBe('English')
    expect(isLocale('en-US')).toBe(true)
    expect(isLocale('fr-FR')).toBe(false)
  })

  it('defaults to zh-CN and persists the choice', () => {
    const storage = memoryStorage()
    expect(loadLocale(storage)).toBe('zh-CN')
    saveLocale('en-US', storage)
    expect(storage.data[LOCALE_STORAGE_KEY]).toBe('en-US')
    expect(loadLocale(storage)).toBe('en-US')
  })

  it('ignores an unknown saved locale', () => {
    expect(loadLocale(memoryStorage({ [LOCALE_STORAGE_KEY]: 'fr-FR' }))).toBe('zh-CN')
  })
})
