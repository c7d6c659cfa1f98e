import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import zhCn from 'element-plus/es/locale/lang/zh-cn'
import en from 'element-plus/es/locale/lang/en'
import { i18n, loadLocale, saveLocale, type Locale } from '@/locales'

export const useLocaleStore = defineStore('locale', () => {
  const locale = ref<Locale>(loadLocale())
  const elementLocale = computed(() => (locale.value === 'zh-CN' ? zhCn : en))

  function setLocale(next: Locale) {
    locale.value = next
    i18n.global.locale.value = next
    saveLocale(next)
    document.documentElement.lang = next
  }

  return { locale, elementLocale, setLocale }
})
