// Mounting a page for a view test, and finding things in it. Test files mock their APIs and element-plus themselves
// (vi.mock applies to this module too).
import { createApp, h, nextTick, type App, type Component } from 'vue'
import { createPinia, setActivePinia } from 'pinia'
import { createMemoryHistory, createRouter, RouterView, type RouteRecordRaw, type Router } from 'vue-router'
import ElementPlus from 'element-plus'
import { i18n } from '@/locales'
import type { AuthApi } from '@/api/auth'
import { useSessionStore } from '@/stores/use-session-store'

/** The session of 王小锦 (account `accountId`) at 锦鲤茶饮, with SCRM activated unless `scrm` is false. */
export function testSession(
  { role = 'admin', accountId = 7, scrm = true }: { role?: 'admin' | 'member'; accountId?: number; scrm?: boolean } = {},
): AuthApi.Session {
  return {
    account: { id: accountId, phone: '13800000000', name: '王小锦', role, status: 'active' },
    team: { id: 3, name: '锦鲤茶饮' },
    apps: [{ key: 'scrm', activated: scrm, activated_at: scrm ? 1 : null }, { key: 'cloud_store', activated: false, activated_at: null }],
  }
}

/** Lets the answers already given come through, and the page render them. */
export async function settle() {
  for (let i = 0; i < 6; i++) await Promise.resolve()
  await nextTick()
  await nextTick()
}

export interface MountOptions {
  session: AuthApi.Session
  routes: RouteRecordRaw[]
  /** the address opened before mounting (none: the router is left where it starts) */
  path?: string
  /** the app's root component (default: the router's view) */
  component?: Component
}

/**
 * Mounts an app with a fresh pinia signed in as `session`, i18n, a memory router and Element Plus, in a new element
 * of the body, and lets it settle.
 */
export async function mountApp({ session, routes, path, component }: MountOptions): Promise<{ app: App; root: HTMLElement; router: Router }> {
  const pinia = createPinia()
  setActivePinia(pinia)
  useSessionStore().set(session)
  const router = createRouter({ history: createMemoryHistory(), routes })
  if (path !== undefined) {
    await router.push(path)
    await router.isReady()
  }
  const root = document.createElement('div')
  document.body.appendChild(root)
  const app = createApp(component ?? { render: () => h(RouterView) })
  app.use(pinia).use(i18n).use(router).use(ElementPlus).mount(root)
  await settle()
  return { app, root, router }
}

/** An element by its data-test, in the page or in what it teleports to the body (dialogs, dropdowns). */
export const q = (test: string, within: ParentNode = document.body) => within.querySelector<HTMLElement>(`[data-test="${test}"]`)
export const all = (test: string, within: ParentNode = document.body) =>
  [...within.querySelectorAll<HTMLElement>(`[data-test="${test}"]`)]
/** The text of an element with its white space collapsed. */
export const text = (el: Element | null | undefined) => el?.textContent?.replace(/\s+/g, ' ').trim() ?? ''

/** Types `value` into the input or textarea `test`. */
export async function type(test: string, value: string) {
  const input = q(test) as HTMLInputElement | HTMLTextAreaElement
  input.value = value
  input.dispatchEvent(new Event('input'))
  await nextTick()
}

/** Clicks `test` and lets the page settle. */
export async function click(test: string, within: ParentNode = document.body) {
  q(test, within)!.click()
  await settle()
}
