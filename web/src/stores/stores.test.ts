import { beforeEach, describe, expect, it } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { useAppsStore } from './use-apps-store'
import { useLocaleStore } from './use-locale-store'
import { i18n, LOCALE_STORAGE_KEY } from '@/locales'

beforeEach(() => {
  setActivePinia(createPinia())
  localStorage.clear()
})

describe('apps store', () => {
  it('does not switch to an app that is not activated', () => {
    const apps = useAppsStore()
    apps.switchTo('cloud_store')
    expect(apps.current.key).toBe('scrm')
  })
})

describe('locale store', () => {
  it('switches i18n and persists to localStorage', () => {
    const store = useLocaleStore()
    store.setLocale('en-US')
    expect(i18n.global.locale.value).toBe('en-US')
    expect(localStorage.getItem(LOCALE_STORAGE_KEY)).toBe('en-US')
    expect(document.documentElement.lang).toBe('en-US')
    store.setLocale('zh-CN')
    expect(i18n.global.locale.value).toBe('zh-CN')
  })
})
