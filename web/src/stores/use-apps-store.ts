import { defineStore } from 'pinia'
import { computed, ref } from 'vue'

export interface KoiApp {
  key: 'scrm' | 'cloud_store'
  titleKey: string
  /** Activation is per team; the accounts issue makes it real. Until then only SCRM is usable. */
  activated: boolean
}

export const useAppsStore = defineStore('apps', () => {
  const apps = ref<KoiApp[]>([
    { key: 'scrm', titleKey: 'apps.scrm', activated: true },
    { key: 'cloud_store', titleKey: 'apps.cloudStore', activated: false },
  ])
  const currentKey = ref<KoiApp['key']>('scrm')
  const current = computed(() => apps.value.find((a) => a.key === currentKey.value)!)

  function switchTo(key: KoiApp['key']) {
    const app = apps.value.find((a) => a.key === key)
    if (app?.activated) currentKey.value = key
  }

  return { apps, current, switchTo }
})
