import { createI18n } from 'vue-i18n'
import zhCN from './langs/zh-CN.json'
import enUS from './langs/en-US.json'

export type Locale = 'zh-CN' | 'en-US'

export interface LocaleOption {
  code: Locale
  /** the language's name in itself (endonym), the same whatever language the console shows */
  name: string
}

/** The console's languages, in the order the language menus list them; the first is the default. */
export const LOCALES: readonly LocaleOption[] = [
  { code: 'zh-CN', name: '中文' },
  { code: 'en-US', name: 'English' },
]
export const LOCALE_STORAGE_KEY = 'koi.locale'

export function isLocale(value: unknown): value is Locale {
  return LOCALES.some((l) => l.code === value)
}

/** The endonym of a language ("中文", "English"). */
export function localeName(code: Locale): string {
  return LOCALES.find((l) => l.code === code)?.name ?? code
}

/** The saved language, or zh-CN (the console is Chinese first). */
export function loadLocale(storage: Pick<Storage, 'getItem'> = localStorage): Locale {
  const saved = storage.getItem(LOCALE_STORAGE_KEY)
  return isLocale(saved) ? saved : LOCALES[0].code
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
