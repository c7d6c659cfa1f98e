import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router'
import { watch } from 'vue'
import { i18n } from '@/locales'
import BasicLayout from '@/layouts/basic-layout.vue'

export const routes: RouteRecordRaw[] = [
  {
    path: '/',
    component: BasicLayout,
    children: [
      { path: '', component: () => import('@/views/overview/index.vue'), meta: { titleKey: 'menu.overview' } },
      { path: 'system/status', component: () => import('@/views/system/status/index.vue'), meta: { titleKey: 'menu.systemStatus' } },
      { path: ':pathMatch(.*)*', component: () => import('@/views/not-found/index.vue'), meta: { titleKey: 'notFound.title' } },
    ],
  },
]

export const router = createRouter({ history: createWebHistory(), routes })

function updateTitle() {
  const key = router.currentRoute.value.meta.titleKey as string | undefined
  const t = i18n.global.t
  document.title = key ? `${t(key)} - ${t('app.name')}` : t('app.name')
}
router.afterEach(updateTitle)
watch(i18n.global.locale, updateTitle)
