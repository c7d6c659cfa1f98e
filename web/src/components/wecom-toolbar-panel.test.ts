import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createApp, h, nextTick, type App } from 'vue'
import ElementPlus from 'element-plus'
import { i18n } from '@/locales'
import { ApiError } from '@/api/request'
import { checkWecomToolbarApi, getWecomToolbarApi, type SidebarApi } from '@/api/sidebar'
import WecomToolbarPanel from './wecom-toolbar-panel.vue'

vi.mock('@/api/sidebar', () => ({ getWecomToolbarApi: vi.fn(), checkWecomToolbarApi: vi.fn() }))

const URL = 'https://scrm.example.com/sidebar/wwkoidemo0000001/customer'
function toolbar(over: Partial<SidebarApi.Toolbar> = {}): SidebarApi.Toolbar {
  return {
    public_url: 'https://scrm.example.com', trusted_domain: 'scrm.example.com', agent_id: '1000002',
    entries: [{ key: 'customer', name_zh: '客户画像', name_en: 'Customer profile', url: URL }],
    last_open: null, opens_7d: 0, simulator_url: '', ...over,
  }
}

let app: App | null = null
let root: HTMLElement
function mount(props: { linked: boolean; isAdmin: boolean }) {
  root = document.createElement('div')
  document.body.appendChild(root)
  app = createApp({ render: () => h(WecomToolbarPanel, props) })
  app.use(i18n).use(ElementPlus).mount(root)
}
const q = (test: string) => root.querySelector<HTMLElement>(`[data-test="${test}"]`)
const text = (test: string) => q(test)?.textContent?.replace(/\s+/g, ' ').trim() ?? ''
const settle = async () => {
  for (let i = 0; i < 6; i++) await Promise.resolve()
  await nextTick()
}

beforeEach(() => {
  i18n.global.locale.value = 'zh-CN'
  vi.mocked(getWecomToolbarApi).mockReset().mockResolvedValue(toolbar())
  vi.mocked(checkWecomToolbarApi).mockReset()
})
afterEach(() => {
  app?.unmount()
  app = null
  root.remove()
})

describe('the chat toolbar step', () => {
  it('lists the pages to configure with the trusted domain and the AgentId, in both languages', async () => {
    mount({ linked: true, isAdmin: true })
    await settle()
    expect(text('toolbar-url')).toBe(URL)
    expect(text('toolbar-entries')).toContain('客户画像')
    expect(text('toolbar-domain')).toBe('scrm.example.com')
    expect(text('toolbar-agent')).toBe('1000002')
    i18n.global.locale.value = 'en-US'
    await nextTick()
    expect(text('toolbar-entries')).toContain('Customer profile')
    expect(q('toolbar-simulator')).toBeNull()
  })

  it('says what is missing: no link, no public URL, no AgentId', async () => {
    mount({ linked: false, isAdmin: true })
    await settle()
    expect(q('toolbar-not-linked')).not.toBeNull()
    expect(getWecomToolbarApi).not.toHaveBeenCalled()
    app!.unmount()
    root.remove()

    vi.mocked(getWecomToolbarApi).mockResolvedValue(toolbar({ public_url: '', trusted_domain: '', agent_id: '', entries: [] }))
    mount({ linked: true, isAdmin: true })
    await settle()
    expect(q('toolbar-no-url')).not.toBeNull()
    expect(text('toolbar-agent')).toBe('未填写')
  })

  it('runs the checks and shows each result with its reason; members cannot run them', async () => {
    vi.mocked(checkWecomToolbarApi).mockResolvedValue({
      checks: [
        { key: 'public_url', result: 'ok', reason: '', detail: 'https://scrm.example.com' },
        { key: 'agent_id', result: 'ok', reason: '', detail: '1000002' },
        { key: 'ticket', result: 'fail', reason: 'wecom_ip_not_trusted', detail: 'WeCom errcode 60020' },
        { key: 'page', result: 'fail', reason: 'sidebar_page_unexpected', detail: 'HTTP 404' },
        { key: 'opened', result: 'warn', reason: 'sidebar_never_opened', detail: '' },
      ],
    })
    mount({ linked: true, isAdmin: true })
    await settle()
    q('toolbar-check')!.click()
    await settle()
    expect(q('toolbar-check-ticket')!.dataset.result).toBe('fail')
    expect(text('toolbar-check-ticket')).toContain('60020')
    expect(text('toolbar-check-page')).toContain('反向代理')
    expect(text('toolbar-check-opened')).toContain('还没有员工')
    expect(vi.mocked(getWecomToolbarApi)).toHaveBeenCalledTimes(2)  // reloaded: someone may have opened it since
    app!.unmount()
    root.remove()

    mount({ linked: true, isAdmin: false })
    await settle()
    expect(q('toolbar-check')).toBeNull()
  })

  it('shows the last open and the sandbox chat page when there is one', async () => {
    vi.mocked(getWecomToolbarApi).mockResolvedValue(toolbar({
      last_open: { userid: 'zhangsan', employee_name: '张三', at: 1_795_392_000_000 }, opens_7d: 4,
      simulator_url: 'http://127.0.0.1:9080/sandbox/chat?corp=wwkoidemo0000001',
    }))
    mount({ linked: true, isAdmin: true })
    await settle()
    expect(text('toolbar-last-open')).toContain('张三')
    expect(q('toolbar-simulator')!.getAttribute('href')).toBe('http://127.0.0.1:9080/sandbox/chat?corp=wwkoidemo0000001')
  })

  it('shows why the page could not be read', async () => {
    vi.mocked(getWecomToolbarApi).mockRejectedValue(new ApiError(412, 'wecom_not_linked', 'x'))
    mount({ linked: true, isAdmin: true })
    await settle()
    expect(q('toolbar-load-error')).not.toBeNull()
  })
})
