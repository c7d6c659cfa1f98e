import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createApp, h, nextTick, reactive, type App } from 'vue'
import ElementPlus from 'element-plus'
import { i18n } from '@/locales'
import { ApiError } from '@/api/request'
import { listMediaApi, uploadMediaApi, type MediaApi } from '@/api/media'
import { newAttachment, type AttachmentType, type EditorAttachment } from '@/composables/message-content'
import { settle } from '@/test-utils/mount'
import MessageAttachmentEditor from './message-attachment-editor.vue'
import MessagePreview from './message-preview.vue'

vi.mock('@/api/media', async (importOriginal) => ({
  ...(await importOriginal<typeof import('@/api/media')>()), uploadMediaApi: vi.fn(), listMediaApi: vi.fn(),
}))

const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0]
const MP4 = [0, 0, 0, 0x18, 0x66, 0x74, 0x79, 0x70, 0x69, 0x73, 0x6f, 0x6d]
const file = (name: string, bytes: number[], type: string) => new File([new Uint8Array(bytes)], name, { type })
const media = (over: Partial<MediaApi.Media> = {}): MediaApi.Media => ({
  id: 1, media_id: 'MEDIA_1', type: 'image', filename: 'poster.png', size: 10, expires_at: 1_700_000_000_000, ...over,
})

let app: App | null = null
let root: HTMLElement

/** The editor of one attachment of `type` beside the preview, as the composer shows them; the attachment edited. */
async function mount(type: AttachmentType, over: Partial<EditorAttachment> = {}): Promise<EditorAttachment> {
  const attachment = reactive<EditorAttachment>({ ...newAttachment(type), ...over })
  root = document.createElement('div')
  document.body.appendChild(root)
  app = createApp({
    render: () => [
      h(MessageAttachmentEditor, { attachment, index: 0, problems: [], types: ['image', 'link', 'miniprogram', 'video', 'file'], refused: false, first: true, last: true }),
      h(MessagePreview, { text: '', attachments: [attachment] }),
    ],
  })
  app.use(i18n).use(ElementPlus).mount(root)
  await settle()
  return attachment
}
const q = (test: string) => root.querySelector<HTMLElement>(`[data-test="${test}"]`)
const text = (test: string) => q(test)?.textContent?.replace(/\s+/g, ' ').trim() ?? ''

/** Picks `f` in the upload's file input, as a user (or page.setInputFiles) does, and lets the upload go on. */
async function choose(f: File) {
  const input = q('attachment-upload-input') as HTMLInputElement
  Object.defineProperty(input, 'files', { value: [f], configurable: true })
  input.dispatchEvent(new Event('change'))
  await vi.waitFor(() => expect(q('attachment-upload-sending') ?? q('attachment-upload-done') ?? q('attachment-upload-error')).not.toBeNull())
  await settle()
}

beforeEach(() => {
  i18n.global.locale.value = 'zh-CN'
  vi.mocked(uploadMediaApi).mockReset()
  vi.spyOn(URL, 'createObjectURL').mockImplementation(() => 'blob:poster')
  vi.spyOn(URL, 'revokeObjectURL').mockImplementation(() => undefined)
})
afterEach(() => {
  app?.unmount()
  app = null
  document.body.innerHTML = ''
  vi.restoreAllMocks()
})

describe('uploading an attachment\'s file', () => {
  it('uploads an image: media_id set, its name and thumbnail shown, the preview shows it; removing brings the URL back', async () => {
    vi.mocked(uploadMediaApi).mockResolvedValue(media())
    const a = await mount('image')
    expect(text('attachment-upload-button')).toBe('上传图片')
    expect(text('attachment-upload-limits')).toBe('JPG / PNG 格式，不超过 10 MB')
    expect(q('attachment-upload-input')!.getAttribute('accept')).toContain('image/png')
    // Without an upload, the address can be typed instead.
    expect(q('attachment-url')).not.toBeNull()

    const f = file('poster.png', PNG, 'image/png')
    await choose(f)
    expect(vi.mocked(uploadMediaApi).mock.calls[0].slice(0, 4)).toEqual([f, 'image', 'poster.png', 'image/png'])
    expect(a.media_id).toBe('MEDIA_1')
    expect(text('attachment-upload-name')).toBe('poster.png')
    expect(text('attachment-upload-size')).toBe('10 B · 已上传')
    expect(q('attachment-upload-thumb')!.getAttribute('src')).toBe('blob:poster')
    expect(text('attachment-upload-hint')).toContain('3 天')
    expect(q('attachment-url')).toBeNull()
    expect(q('preview-image')!.querySelector('img')!.getAttribute('src')).toBe('blob:poster')

    q('attachment-upload-remove')!.click()
    await settle()
    expect([a.media_id, a.uploads]).toEqual(['', {}])
    expect(q('attachment-upload-button')).not.toBeNull()
    expect(q('attachment-url')).not.toBeNull()
  })

  it('shows the progress while the file goes out, and cancels it', async () => {
    let report!: (loaded: number, total: number) => void
    vi.mocked(uploadMediaApi).mockImplementation((_f, _t, _n, _c, options) => new Promise((_resolve, reject) => {
      report = options!.onProgress!
      options!.signal!.addEventListener('abort', () => reject(new ApiError(0, 'aborted', 'upload aborted')))
    }))
    const a = await mount('video')
    await choose(file('clip.mp4', MP4, 'video/mp4'))
    expect(text('attachment-upload-name')).toBe('clip.mp4')
    expect(q('attachment-upload-progress')).not.toBeNull()
    report(6, 12)
    await nextTick()
    expect(q('attachment-upload-progress')!.getAttribute('data-percent')).toBe('50')
    expect(text('attachment-upload-status')).toBe('正在上传 50%')
    report(12, 12)
    await nextTick()
    expect(text('attachment-upload-status')).toBe('正在提交到企业微信…')
    q('attachment-upload-cancel')!.click()
    await settle()
    expect(q('attachment-upload-progress')).toBeNull()
    expect(q('attachment-upload-error')).toBeNull()
    expect(a.media_id).toBe('')
  })

  it('refuses a file WeCom would refuse before sending it, in the user\'s language', async () => {
    await mount('video')
    await choose(file('clip.mov', MP4, 'video/quicktime'))
    expect(text('attachment-upload-error')).toBe('视频只支持 MP4 格式')
    i18n.global.locale.value = 'en-US'
    await choose(file('big.mp4', [1, 2, 3], 'video/mp4'))
    expect(text('attachment-upload-error')).toBe('The file is too small: it needs more than 5 bytes')
    expect(uploadMediaApi).not.toHaveBeenCalled()
  })

  it('says why the server refused the file', async () => {
    vi.mocked(uploadMediaApi).mockRejectedValue(new ApiError(0, 'network', 'the upload failed'))
    const a = await mount('file')
    await choose(file('价目表.pdf', [1, 2, 3, 4, 5, 6, 7], 'application/pdf'))
    expect(text('attachment-upload-error')).toBe(i18n.global.t('errors.network'))
    expect(a.media_id).toBe('')
  })

  it('takes a file of the media library instead of uploading one', async () => {
    vi.mocked(listMediaApi).mockResolvedValue({
      items: [{ ...media({ id: 5, media_id: 'LIB_5', filename: '门店.png', size: 4096 }), uploaded_at: 1, created_at: 1, created_by: 7, created_by_name: '王小锦' }],
      total: 1, page: 1, page_size: 10,
    })
    const a = await mount('image')
    q('attachment-library-button')!.click()
    await settle()
    expect(vi.mocked(listMediaApi).mock.calls[0][0]).toMatchObject({ type: 'image', page: 1 })
    document.querySelector<HTMLElement>('[data-test="media-picker-use"]')!.click()
    await settle()
    expect(a.media_id).toBe('LIB_5')
    expect(text('attachment-upload-name')).toBe('门店.png')
    expect(q('attachment-upload-thumb')!.getAttribute('src')).toBe('/api/v1/scrm/media/file?media_id=LIB_5')
    expect(uploadMediaApi).not.toHaveBeenCalled()
  })

  it('uploads a file (name and size in the editor and the preview) and replaces it', async () => {
    vi.mocked(uploadMediaApi)
      .mockResolvedValueOnce(media({ media_id: 'F1', type: 'file', filename: '价目表.pdf', size: 3 * 1024 * 1024 }))
      .mockResolvedValueOnce(media({ media_id: 'F2', type: 'file', filename: '菜单.pdf', size: 2048 }))
    const a = await mount('file')
    expect(text('attachment-upload-limits')).toBe('任意格式，不超过 20 MB')
    expect(q('attachment-upload-input')!.hasAttribute('accept')).toBe(false)
    await choose(file('价目表.pdf', [1, 2, 3, 4, 5, 6, 7], 'application/pdf'))
    expect(a.media_id).toBe('F1')
    expect(text('attachment-upload-name')).toBe('价目表.pdf')
    expect(text('attachment-upload-size')).toBe('3 MB · 已上传')
    expect(q('attachment-upload-thumb')).toBeNull()
    expect(text('preview-file')).toContain('价目表.pdf')
    expect(text('preview-file')).toContain('3 MB')
    expect(q('attachment-upload-replace')).not.toBeNull()
    await choose(file('菜单.pdf', [1, 2, 3, 4, 5, 6, 7], 'application/pdf'))
    expect(a.media_id).toBe('F2')
    expect(text('attachment-upload-name')).toBe('菜单.pdf')
  })

  it('uploads a mini program\'s cover as an image into cover_media_id', async () => {
    vi.mocked(uploadMediaApi).mockResolvedValue(media({ media_id: 'COVER' }))
    const a = await mount('miniprogram', { title: '点单', appid: 'wx1', page: 'pages/index.html' })
    expect(text('attachment-upload-button')).toBe('上传图片')
    await choose(file('cover.png', PNG, 'image/png'))
    expect(vi.mocked(uploadMediaApi).mock.calls[0][1]).toBe('image')
    expect([a.cover_media_id, a.media_id]).toEqual(['COVER', ''])
    expect(q('preview-mini-cover')!.getAttribute('src')).toBe('blob:poster')
  })

  it('still takes a media id typed by hand, which drops the upload', async () => {
    vi.mocked(uploadMediaApi).mockResolvedValue(media({ media_id: 'V1', type: 'video', filename: 'clip.mp4' }))
    const a = await mount('video')
    expect(q('attachment-media_id')).toBeNull()
    await choose(file('clip.mp4', MP4, 'video/mp4'))
    q('attachment-upload-manual')!.click()
    await settle()
    const input = q('attachment-media_id') as HTMLInputElement
    expect(input.value).toBe('V1')
    input.value = 'typed-id'
    input.dispatchEvent(new Event('input'))
    await settle()
    expect(a.media_id).toBe('typed-id')
    expect(a.uploads).toEqual({})
    expect(q('attachment-upload-existing')).not.toBeNull()
  })

  it('shows the media id of a saved draft, ready to be replaced by an upload', async () => {
    await mount('video', { media_id: 'SAVED' })
    expect(q('attachment-upload-existing')).not.toBeNull()
    expect((q('attachment-media_id') as HTMLInputElement).value).toBe('SAVED')
    expect(text('attachment-upload-replace')).toBe('上传视频')
  })
})
