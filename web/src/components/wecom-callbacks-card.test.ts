import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createApp, h, nextTick, reactive, type App } from 'vue'
import ElementPlus, { ElMessage } from 'element-plus'
import { i18n } from '@/locales'
import type { WecomApi } from '@/api/wecom'
import { formatDateTime } from '@/composables/format'
import WecomCallbacksCard from './wecom-callbacks-card.vue'

vi.mock('element-plus', async (importOriginal) => ({
  ...(await importOriginal<typeof import('element-plus')>()),
  ElMessage: { success: vi.fn(), error: vi.fn() },
}))

const ORIGIN = 'https://koi.example.com'
const PATH = '/api/v1/wecom/callback/wwkoidemo0000001'

function callbacks(over: Partial<WecomApi.Callbacks> = {}): WecomApi.Callbacks {
  return { url_path: PATH, pending: 0, applied: 0, failed: 0, last_received_at: null, ...over }
}

let app: App | null = null
let root: HTMLElement

type Props = {
  callbacks: WecomApi.Callbacks; mode?: WecomApi.Corp['mode']; origin?: string; refreshing?: boolean; onRefresh?: () => void
}

/**
 * Mounts the card as the page does (Element Plus, i18n) inside a parent that passes reactive props, so a test can
 * give it the next state as the page's polling would. Leave `origin` out to use window.location.origin.
 */
function mount(initial: Props): Props {
  const props = reactive<Props>({ ...initial })
  root = document.createElement('div')
  document.body.appendChild(root)
  app = createApp({ render: () => h(WecomCallbacksCard, props) })
  app.use(i18n).use(ElementPlus).mount(root)
  return props
}
const q = (test: string) => root.querySelector<HTMLElement>(`[data-test="${test}"]`)
const text = (test: string) => q(test)?.textContent?.replace(/\s+/g, ' ').trim() ?? ''
const value = (test: string) => q(test)?.querySelector('[data-test="stat-value"]')?.textContent?.trim()
/** lets the copy's promise chain (clipboard, then the message) finish */
const settle = async () => {
  for (let i = 0; i < 5; i++) await Promise.resolve()
  await nextTick()
}

function stubClipboard(writeText: (s: string) => Promise<void>) {
  Object.defineProperty(navigator, 'clipboard', { value: { writeText: vi.fn(writeText) }, configurable: true })
  return (navigator as unknown as { clipboard: { writeText: ReturnType<typeof vi.fn> } }).clipboard.writeText
}

beforeEach(() => {
  i18n.global.locale.value = 'zh-CN'
  vi.mocked(ElMessage.success).mockReset()
  vi.mocked(ElMessage.error).mockReset()
})
afterEach(() => {
  app?.unmount()
  app = null
  root.remove()
  vi.restoreAllMocks()
})

describe('the callbacks card', () => {
  it('shows the callback URL as the console origin plus the path the server gives', () => {
    mount({ callbacks: callbacks(), origin: ORIGIN })
    expect(q('callback-url')).toBeInstanceOf(HTMLInputElement)
    expect((q('callback-url') as HTMLInputElement).value).toBe(`${ORIGIN}${PATH}`)
    expect((q('callback-url') as HTMLInputElement).readOnly).toBe(true)
  })

  it('uses the page origin by default', () => {
    mount({ callbacks: callbacks() })
    expect((q('callback-url') as HTMLInputElement).value).toBe(`${window.location.origin}${PATH}`)
  })

  it('explains where to paste it, with the same Token and EncodingAESKey, and what happens after', () => {
    mount({ callbacks: callbacks(), origin: ORIGIN })
    expect(text('callbacks-card')).toContain('接收事件（实时同步）')
    expect(text('callbacks-guide-open')).toContain('接收消息 → 设置API接收')
    expect(text('callbacks-guide-paste')).toContain('同一组值')
    expect(text('callbacks-guide-verify')).toContain('立即校验')
    expect(text('callbacks-guide-live')).toContain('每晚的全量同步')
  })

  it('copies the URL and says so', async () => {
    const writeText = stubClipboard(() => Promise.resolve())
    mount({ callbacks: callbacks(), origin: ORIGIN })
    q('callback-copy')!.click()
    await settle()
    expect(writeText).toHaveBeenCalledWith(`${ORIGIN}${PATH}`)
    expect(ElMessage.success).toHaveBeenCalledWith('回调 URL 已复制')
    expect(ElMessage.error).not.toHaveBeenCalled()
  })

  it('says to copy by hand when the clipboard refuses', async () => {
    stubClipboard(() => Promise.reject(new DOMException('denied', 'NotAllowedError')))
    const exec = vi.fn(() => false)
    Object.defineProperty(document, 'execCommand', { value: exec, configurable: true })
    mount({ callbacks: callbacks(), origin: ORIGIN })
    q('callback-copy')!.click()
    await settle()
    expect(exec).toHaveBeenCalledWith('copy')
    expect(ElMessage.error).toHaveBeenCalledWith('无法写入剪贴板，请选中地址后手动复制')
    expect(ElMessage.success).not.toHaveBeenCalled()
    Reflect.deleteProperty(document, 'execCommand')
  })

  it('shows an empty state until WeCom sends something', () => {
    mount({ callbacks: callbacks(), origin: ORIGIN })
    expect(q('callbacks-empty')).not.toBeNull()
    expect(text('callbacks-empty')).toContain('尚未收到企业微信的回调')
    expect(q('callbacks-stats')).toBeNull()
    expect(q('callbacks-failed-tag')).toBeNull()
    expect(q('callbacks-connected')).toBeNull()
  })

  it('shows what was applied, what waits and when the last one came', () => {
    const at = 1_795_392_000_000
    mount({ callbacks: callbacks({ applied: 128, pending: 3, last_received_at: at }), origin: ORIGIN })
    expect(q('callbacks-empty')).toBeNull()
    expect(value('callbacks-applied')).toBe('128')
    expect(value('callbacks-pending')).toBe('3')
    expect(value('callbacks-failed')).toBe('0')
    expect(value('callbacks-last')).toBe(formatDateTime(at, true))
    expect(text('callbacks-last')).toContain('最近收到')
    expect(q('callbacks-connected')?.textContent).toContain('已接通')
    expect(q('callbacks-failed-tag')).toBeNull()
    expect(q('callbacks-failed-note')).toBeNull()
  })

  it('warns when events failed', () => {
    mount({ callbacks: callbacks({ applied: 40, failed: 2, last_received_at: 1_795_392_000_000 }), origin: ORIGIN })
    const tag = q('callbacks-failed-tag')
    expect(tag?.textContent).toContain('2 条处理失败')
    expect(tag?.className).toContain('el-tag--warning')
    expect(q('callbacks-failed')?.className).toContain('bad')
    expect(text('callbacks-failed-note')).toContain('全量同步')
    expect(q('callbacks-connected')).toBeNull()
  })

  it('follows the state the page gives it (refreshed by the page\'s polling)', async () => {
    const props = mount({ callbacks: callbacks(), origin: ORIGIN })
    expect(q('callbacks-empty')).not.toBeNull()
    props.callbacks = callbacks({ pending: 1, last_received_at: 1_795_392_000_000 })
    await nextTick()
    expect(q('callbacks-empty')).toBeNull()
    expect(value('callbacks-pending')).toBe('1')
    props.callbacks = callbacks({ applied: 1, failed: 1, last_received_at: 1_795_392_001_000 })
    await nextTick()
    expect(value('callbacks-applied')).toBe('1')
    expect(q('callbacks-failed-tag')).not.toBeNull()
  })

  it('asks the page to refresh', () => {
    const onRefresh = vi.fn()
    mount({ callbacks: callbacks(), origin: ORIGIN, onRefresh })
    q('callbacks-refresh')!.click()
    expect(onRefresh).toHaveBeenCalledTimes(1)
  })

  it('speaks English too', () => {
    i18n.global.locale.value = 'en-US'
    mount({ callbacks: callbacks({ failed: 1, last_received_at: 1 }), origin: ORIGIN })
    expect(text('callbacks-card')).toContain('Callback (live sync)')
    expect(q('callbacks-failed-tag')?.textContent).toContain('1 failed')
    expect(text('callbacks-guide-paste')).toContain('same Token and EncodingAESKey')
  })

  it('a third-party corp has nothing to enter: a note instead of the URL and the guide, the counts as usual', async () => {
    const props = mount({ callbacks: callbacks(), mode: 'third_party', origin: ORIGIN })
    expect(text('callbacks-provider-note')).toContain('由锦鲤的服务商统一配置')
    expect(q('callback-url')).toBeNull()
    expect(q('callbacks-guide')).toBeNull()
    expect(text('callbacks-empty')).toContain('一有变化，这里就会开始计数')
    expect(text('callbacks-empty')).not.toContain('按上面的步骤')
    props.callbacks = callbacks({ applied: 3, last_received_at: 1 })
    await nextTick()
    expect(value('callbacks-applied')).toBe('3')
  })
})
