import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router'
import { watch } from 'vue'
import { i18n } from '@/locales'
import BasicLayout from '@/layouts/basic-layout.vue'
import AuthLayout from '@/layouts/auth-layout.vue'
import { useSessionStore } from '@/stores/use-session-store'
import { useAppsStore } from '@/stores/use-apps-store'
import { guardRoute } from './guard'

/** A page outside the console's frame (login, register, …): public, in the auth layout. */
function authPage(path: string, component: RouteRecordRaw['component'], meta: RouteRecordRaw['meta']): RouteRecordRaw {
  return { path, component: AuthLayout, meta: { public: true, ...meta }, children: [{ path: '', component: component! }] }
}

export const routes: RouteRecordRaw[] = [
  authPage('/login', () => import('@/views/auth/login.vue'), { guestOnly: true, titleKey: 'auth.login.title' }),
  authPage('/register', () => import('@/views/auth/register.vue'), { guestOnly: true, titleKey: 'auth.register.title' }),
  authPage('/forgot-password', () => import('@/views/auth/forgot-password.vue'), { titleKey: 'auth.reset.title' }),
  authPage('/dev/sms-inbox', () => import('@/views/dev/sms-inbox.vue'), { titleKey: 'devInbox.title' }),
  // WeCom's chat toolbar (聊天工具栏): pages of their own, signed in through WeCom rather than a Koi session; :page is
  // one of use-sidebar's SIDEBAR_PAGES (customer|group), each page its own record for its own view and title.
  { path: '/sidebar/:corp/:page(customer)', component: () => import('@/views/sidebar/customer.vue'), meta: { public: true, titleKey: 'sidebar.title' } },
  { path: '/sidebar/:corp/:page(group)', component: () => import('@/views/sidebar/group.vue'), meta: { public: true, titleKey: 'sidebar.group.title' } },
  {
    path: '/',
    component: BasicLayout,
    children: [
      // The current app's home, or the app market when the team has no app yet (after the session is loaded).
      { path: '', component: () => import('@/views/not-found/index.vue'), beforeEnter: () => ({ path: useAppsStore().homePath, replace: true }) },
      { path: 'scrm/overview', component: () => import('@/views/scrm/overview.vue'), meta: { titleKey: 'menu.scrmOverview' } },
      { path: 'scrm/setup', component: () => import('@/views/scrm/setup.vue'), meta: { titleKey: 'menu.wecomSetup' } },
      { path: 'scrm/customers', component: () => import('@/views/scrm/customers.vue'), meta: { titleKey: 'menu.customers' } },
      { path: 'scrm/customers/:id', component: () => import('@/views/scrm/customer-detail.vue'), meta: { titleKey: 'customers.profile' } },
      { path: 'scrm/churn', component: () => import('@/views/scrm/churn.vue'), meta: { titleKey: 'menu.churn' } },
      { path: 'scrm/groups', component: () => import('@/views/scrm/groups.vue'), meta: { titleKey: 'menu.groups' } },
      { path: 'scrm/tags', component: () => import('@/views/scrm/tags.vue'), meta: { titleKey: 'menu.tags' } },
      { path: 'scrm/stages', component: () => import('@/views/scrm/stages.vue'), meta: { titleKey: 'menu.stages' } },
      { path: 'scrm/fields', component: () => import('@/views/scrm/fields.vue'), meta: { titleKey: 'menu.fields' } },
      { path: 'scrm/segments', component: () => import('@/views/scrm/segments.vue'), meta: { titleKey: 'menu.segments' } },
      { path: 'scrm/segments/new', component: () => import('@/views/scrm/segment-editor.vue'), meta: { titleKey: 'segments.editor.newTitle' } },
      { path: 'scrm/segments/:id(\\d+)', component: () => import('@/views/scrm/segment-editor.vue'), meta: { titleKey: 'menu.segments' } },
      { path: 'scrm/messages', component: () => import('@/views/scrm/messages.vue'), meta: { titleKey: 'menu.messages' } },
      { path: 'scrm/messages/new', component: () => import('@/views/scrm/message-composer.vue'), meta: { titleKey: 'messages.composer.newTitle' } },
      { path: 'scrm/messages/:id(\\d+)/edit', component: () => import('@/views/scrm/message-composer.vue'), meta: { titleKey: 'menu.messages' } },
      { path: 'scrm/messages/:id(\\d+)', component: () => import('@/views/scrm/message-detail.vue'), meta: { titleKey: 'menu.messages' } },
      { path: 'scrm/media', component: () => import('@/views/scrm/media.vue'), meta: { titleKey: 'menu.media' } },
      { path: 'scrm/settings/rule-pack', component: () => import('@/views/scrm/rule-pack.vue'), meta: { titleKey: 'menu.rulePack' } },
      { path: 'scrm/employees', component: () => import('@/views/scrm/employees.vue'), meta: { titleKey: 'menu.employees' } },
      { path: 'scrm/fans', component: () => import('@/views/scrm/fans.vue'), meta: { titleKey: 'fans.title', adminOnly: true } },
      { path: 'store/overview', component: () => import('@/views/store/overview.vue'), meta: { titleKey: 'menu.storeOverview' } },
      { path: 'apps/market', component: () => import('@/views/apps/market.vue'), meta: { titleKey: 'menu.market' } },
      { path: 'apps/market/:key', component: () => import('@/views/apps/detail.vue'), meta: { titleKey: 'menu.market' } },
      { path: 'apps/mine', component: () => import('@/views/apps/mine.vue'), meta: { titleKey: 'menu.mine' } },
      { path: 'account', component: () => import('@/views/account/index.vue'), meta: { titleKey: 'menu.account' } },
      { path: 'settings/members', component: () => import('@/views/settings/members.vue'), meta: { titleKey: 'menu.members', adminOnly: true } },
      { path: 'settings/audit-log', component: () => import('@/views/settings/audit-log.vue'), meta: { titleKey: 'menu.auditLog', adminOnly: true } },
      { path: 'system/status', component: () => import('@/views/system/status/index.vue'), meta: { titleKey: 'menu.systemStatus', adminOnly: true } },
      { path: '403', component: () => import('@/views/forbidden/index.vue'), meta: { titleKey: 'forbidden.title' } },
      { path: ':pathMatch(.*)*', component: () => import('@/views/not-found/index.vue'), meta: { titleKey: 'notFound.title' } },
    ],
  },
]

export const router = createRouter({ history: createWebHistory(), routes })

router.beforeEach(async (to) => {
  const session = useSessionStore()
  // Waits until the server said who is logged in; while it cannot be reached App.vue shows "retry" instead.
  await session.ensureLoaded()
  return guardRoute(to, { loggedIn: session.loggedIn, isAdmin: session.isAdmin })
})

router.afterEach((to) => useAppsStore().follow(to.path))

function updateTitle() {
  const key = router.currentRoute.value.meta.titleKey as string | undefined
  const t = i18n.global.t
  document.title = key ? `${t(key)} - ${t('app.name')}` : t('app.name')
}
router.afterEach(updateTitle)
watch(i18n.global.locale, updateTitle)
