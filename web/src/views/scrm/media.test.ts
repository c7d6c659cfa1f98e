import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { type App } from 'vue'
import { ElMessage, ElMessageBox } from 'element-plus'
import { i18n } from '@/locales'
import { ApiError } from '@/api/request'
import { deleteMediaApi, listMediaApi, type MediaApi } from '@/api/media'
import { mediaFresh, mediaTypeOf } from '@/composables/use-media-library'
import { all, click, mountApp, q, settle, testSession, text } from '@/test-utils/mount'
import MediaPage from './media.vue'

vi.mock('@/api/media', async (importOriginal) => ({
  ...(await importOriginal<typeof import('@/api/media')>()),
  listMediaApi: vi.fn(), deleteMediaApi: vi.fn(), uploadMediaApi: vi.fn(),
}))
vi.mock('element-plus', async (importOriginal) => {
  const ep = await importOriginal<typeof import('element-plus')>()
  return { ...ep, ElMessage: { success: vi.fn(), error: vi.fn() }, ElMessageBox: { confirm: vi.fn() } }
})

const NOW = Date.now()
const item = (id: number, filename: string, type: MediaApi.Type, createdBy = 7): MediaApi.LibraryItem => ({
  id, media_id: `3m${id}`, type, filename, size: 2048, expires_at: NOW + 86_400_000, uploaded_at: NOW, created_at: NOW,
  created_by: createdBy, created_by_name: createdBy === 7 ? '王小锦' : '小林',
})
const page = (items: MediaApi.LibraryItem[], total = items.length, p = 1): MediaApi.LibraryPage =>
  ({ items, total, page: p, page_size: 20 })

let app: App | null = null
async function mountPage(role: 'admin' | 'member' = 'admin') {
  ;({ app } = await mountApp({
    session: testSession({ role }),
    routes: [{ path: '/scrm/media', component: MediaPage }, { path: '/:any(.*)*', component: { render: () => null } }],
    path: '/scrm/media',
  }))
}

beforeEach(() => {
  i18n.global.locale.value = 'zh-CN'
  vi.mocked(listMediaApi).mockReset().mockResolvedValue(page([item(3, '门店.jpg', 'image'), item(2, '价目表.pdf', 'file', 9)]))
  vi.mocked(deleteMediaApi).mockReset()
  vi.mocked(ElMessageBox.confirm).mockReset()
  vi.mocked(ElMessage.error).mockReset()
})
afterEach(() => {
  app?.unmount()
  app = null
  document.body.innerHTML = ''
})

describe('the media library page', () => {
  it('lists the team’s files with a thumbnail for images, and filters by kind on the server', async () => {
    await mountPage()
    expect(all('media-name').map(text)).toEqual(['门店.jpg', '价目表.pdf'])
    expect(all('media-thumb')).toHaveLength(1)
    expect(vi.mocked(listMediaApi).mock.calls[0][0]).toEqual({ type: '', q: '', page: 1, pageSize: 20 })
    const image = [...q('media-type')!.querySelectorAll('input')].find((i) => i.value === 'image')!
    image.click()
    await settle()
    expect(vi.mocked(listMediaApi).mock.calls.at(-1)![0]).toMatchObject({ type: 'image', page: 1 })
  })

  it('deletes after asking; says why when a message still uses the file; members delete only their own', async () => {
    await mountPage()
    vi.mocked(ElMessageBox.confirm).mockRejectedValueOnce('cancel')
    await click('media-delete')
    expect(deleteMediaApi).not.toHaveBeenCalled()

    vi.mocked(ElMessageBox.confirm).mockResolvedValue('confirm' as never)
    vi.mocked(deleteMediaApi).mockRejectedValueOnce(new ApiError(412, 'media_in_use', 'message 4 uses it'))
    await click('media-delete')
    expect(deleteMediaApi).toHaveBeenCalledWith(3)
    expect(vi.mocked(ElMessage.error).mock.calls[0][0]).toContain('尚未发送的群发')

    vi.mocked(deleteMediaApi).mockResolvedValueOnce({ id: 3 })
    vi.mocked(listMediaApi).mockResolvedValue(page([item(2, '价目表.pdf', 'file', 9)]))
    await click('media-delete')
    expect(all('media-name').map(text)).toEqual(['价目表.pdf'])
    app!.unmount()
    document.body.innerHTML = ''

    vi.mocked(listMediaApi).mockResolvedValue(page([item(3, '门店.jpg', 'image'), item(2, '价目表.pdf', 'file', 9)]))
    await mountPage('member')
    expect(all('media-delete')).toHaveLength(1)  // account 7's own file only
  })

  it('says when the library is empty, and when nothing matches', async () => {
    vi.mocked(listMediaApi).mockResolvedValue(page([]))
    await mountPage()
    expect(text(q('media-table'))).toContain('还没有素材')
  })
})

describe('media helpers', () => {
  it('tells an upload’s kind by its type or name, and whether WeCom still has it', () => {
    expect(mediaTypeOf({ name: 'a.PNG', type: '' })).toBe('image')
    expect(mediaTypeOf({ name: 'x', type: 'image/jpeg' })).toBe('image')
    expect(mediaTypeOf({ name: 'clip.mp4', type: '' })).toBe('video')
    expect(mediaTypeOf({ name: 'list.pdf', type: 'application/pdf' })).toBe('file')
    expect(mediaFresh({ expires_at: 2 }, 1)).toBe(true)
    expect(mediaFresh({ expires_at: 1 }, 1)).toBe(false)
  })
})
