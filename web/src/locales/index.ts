import { createI18n } from 'vue-i18n'
import zhCN from './langs/zh-CN.json'
import enUS from './langs/en-US.json'

export type Locale = 'zh-CN' | 'en-US'
export const LOCALES: Locale[] = ['zh-CN', 'en-US']
export const LOCALE_STORAGE_KEY = 'koi.locale'

/** The saved language, or zh-CN (the console is Chinese first). */
export function loadLocale(storage: Pick<Storage, 'getItem'> = localStorage): Locale {
  const saved = storage.getItem(LOCALE_STORAGE_KEY)
  return LOCALES.includes(saved as Locale) ? (saved as Locale) : 'zh-CN'
}

export function saveLocale(locale: Locale, storage: Pick<Storage, 'setItem'> = localStorage): void {
  storage.setItem(LOCALE_STORAGE_KEY, locale)
}

export const i18n = createI18n({
  legacy: false,
  locale: loadLocale(),
  fallbackLocale: 'zh-CN',
  messages: { 'zh-CN': zhCN, 'en-US': enUS },
})
