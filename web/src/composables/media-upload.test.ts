import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { effectScope, nextTick } from 'vue'
import { i18n } from '@/locales'
import { ApiError } from '@/api/request'
import type { MediaApi } from '@/api/media'
import {
  carryUploads, checkMedia, contentTypeOf, formatBytes, hasSignature, MB, mediaProblem, mediaProblemText, mediaTypeOf, reconcileUploads,
  releaseUploads, useMediaUpload, type UploadApi,
} from './media-upload'
import { newAttachment, type EditorAttachment, type UploadedMedia } from './message-content'

const JPEG = [0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46]
const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]
const MP4 = [0, 0, 0, 0x18, 0x66, 0x74, 0x79, 0x70, 0x69, 0x73, 0x6f, 0x6d]
const file = (name: string, bytes: number[], type = '') => new File([new Uint8Array(bytes)], name, { type })
/** a picked file of `size` bytes, for the checks that need no content */
const picked = (name: string, size: number, type = '') => ({ name, size, type })

beforeEach(() => {
  i18n.global.locale.value = 'zh-CN'
})

describe('the checks WeCom makes on a file', () => {
  it('wants more than 5 bytes, of any kind', () => {
    expect(mediaProblem(picked('a.txt', 0), 'file')?.key).toBe('empty')
    expect(mediaProblem(picked('a.txt', 5), 'file')).toEqual({ key: 'tooSmall', values: { min: 5 } })
    expect(mediaProblem(picked('a.txt', 6), 'file')).toBeNull()
    expect(mediaProblem(picked('a.png', 5, 'image/png'), 'image')?.key).toBe('tooSmall')
  })

  it('takes images and videos up to 10 MB, files up to 20 MB', () => {
    expect(mediaProblem(picked('a.png', 10 * MB, 'image/png'), 'image')).toBeNull()
    expect(mediaProblem(picked('a.png', 10 * MB + 1, 'image/png'), 'image')).toEqual({ key: 'tooLarge', values: { max: '10 MB', size: '10 MB' } })
    expect(mediaProblem(picked('a.mp4', 10 * MB, 'video/mp4'), 'video')).toBeNull()
    expect(mediaProblem(picked('a.mp4', 12 * MB, 'video/mp4'), 'video')).toEqual({ key: 'tooLarge', values: { max: '10 MB', size: '12 MB' } })
    expect(mediaProblem(picked('a.pdf', 20 * MB, 'application/pdf'), 'file')).toBeNull()
    expect(mediaProblem(picked('a.pdf', 20 * MB + 1, 'application/pdf'), 'file')?.key).toBe('tooLarge')
  })

  it('takes JPG or PNG images, MP4 videos and files of any format, by MIME type or else by name', () => {
    expect(mediaProblem(picked('a.jpg', 100, 'image/jpeg'), 'image')).toBeNull()
    expect(mediaProblem(picked('a.PNG', 100, ''), 'image')).toBeNull()
    expect(mediaProblem(picked('a.jpeg', 100, 'application/octet-stream'), 'image')).toBeNull()
    expect(mediaProblem(picked('a.gif', 100, 'image/gif'), 'image')).toEqual({ key: 'format', values: { formats: 'JPG / PNG' } })
    expect(mediaProblem(picked('a.webp', 100, ''), 'image')?.key).toBe('format')
    // The browser's type wins over the name.
    expect(mediaProblem(picked('a.png', 100, 'image/webp'), 'image')?.key).toBe('format')
    expect(mediaProblem(picked('a.mp4', 100, 'video/mp4'), 'video')).toBeNull()
    expect(mediaProblem(picked('a.mov', 100, 'video/quicktime'), 'video')).toEqual({ key: 'format', values: { formats: 'MP4' } })
    expect(mediaProblem(picked('a.exe', 100, 'application/x-msdownload'), 'file')).toBeNull()
    expect(mediaProblem(picked(' ', 100, 'image/png'), 'image')?.key).toBe('name')
  })

  it('sends the MIME type of the file, or one from its name', () => {
    expect(contentTypeOf(picked('a.png', 1, 'image/png'), 'image')).toBe('image/png')
    expect(contentTypeOf(picked('a.JPG', 1, ''), 'image')).toBe('image/jpeg')
    expect(contentTypeOf(picked('a.mp4', 1, ''), 'video')).toBe('video/mp4')
    expect(contentTypeOf(picked('a.pdf', 1, 'application/pdf'), 'file')).toBe('application/pdf')
    expect(contentTypeOf(picked('notes', 1, ''), 'file')).toBe('application/octet-stream')
  })

  it('knows JPEG, PNG and MP4 by their first bytes', () => {
    expect(hasSignature(new Uint8Array(JPEG), 'JPG')).toBe(true)
    expect(hasSignature(new Uint8Array(PNG), 'PNG')).toBe(true)
    expect(hasSignature(new Uint8Array(MP4), 'MP4')).toBe(true)
    expect(hasSignature(new Uint8Array(PNG), 'JPG')).toBe(false)
    expect(hasSignature(new Uint8Array([1, 2]), 'MP4')).toBe(false)
  })

  it('refuses a renamed file by its content, checking nothing of a file of any format', async () => {
    expect(await checkMedia(file('a.png', PNG, 'image/png'), 'image')).toBeNull()
    expect(await checkMedia(file('a.jpg', JPEG, 'image/jpeg'), 'image')).toBeNull()
    // A PNG named .jpg is still an image WeCom takes.
    expect(await checkMedia(file('a.jpg', PNG, 'image/jpeg'), 'image')).toBeNull()
    expect(await checkMedia(file('a.png', [...'GIF89a-x'].map((c) => c.charCodeAt(0)), 'image/png'), 'image'))
      .toEqual({ key: 'content', values: { formats: 'JPG / PNG' } })
    expect(await checkMedia(file('a.mp4', MP4, 'video/mp4'), 'video')).toBeNull()
    expect((await checkMedia(file('a.mp4', [1, 2, 3, 4, 5, 6, 7, 8], 'video/mp4'), 'video'))?.key).toBe('content')
    expect(await checkMedia(file('a.txt', [1, 2, 3, 4, 5, 6], 'text/plain'), 'file')).toBeNull()
    expect((await checkMedia(file('a.txt', [1, 2, 3], 'text/plain'), 'file'))?.key).toBe('tooSmall')
  })

  it('says what is wrong in the user\'s language', () => {
    const tooLarge = mediaProblem(picked('a.mp4', 12 * MB, 'video/mp4'), 'video')!
    expect(mediaProblemText(tooLarge, 'video')).toBe('视频不能超过 10 MB，所选文件 12 MB')
    expect(mediaProblemText(mediaProblem(picked('a.gif', 100, 'image/gif'), 'image')!, 'image')).toBe('图片只支持 JPG / PNG 格式')
    i18n.global.locale.value = 'en-US'
    expect(mediaProblemText(tooLarge, 'video')).toBe('A video may be at most 10 MB; this file has 12 MB')
    expect(mediaProblemText({ key: 'tooSmall', values: { min: 5 } }, 'file')).toBe('The file is too small: it needs more than 5 bytes')
  })

  it('writes sizes in B, KB and MB', () => {
    expect(formatBytes(12)).toBe('12 B')
    expect(formatBytes(2048)).toBe('2 KB')
    expect(formatBytes(1536 * 1024)).toBe('1.5 MB')
    expect(formatBytes(20 * MB)).toBe('20 MB')
  })

  it('uploads an image for an image or a cover, a video for a video, a file for a file', () => {
    expect(mediaTypeOf('image', 'media_id')).toBe('image')
    expect(mediaTypeOf('miniprogram', 'cover_media_id')).toBe('image')
    expect(mediaTypeOf('video', 'media_id')).toBe('video')
    expect(mediaTypeOf('file', 'media_id')).toBe('file')
  })
})

const uploaded = (mediaId: string, over: Partial<UploadedMedia> = {}): UploadedMedia => ({
  mediaId, mediaType: 'image', name: 'a.png', size: 10, previewUrl: `blob:${mediaId}`, expiresAt: 1, ...over,
})

describe('uploads kept with the attachments', () => {
  let revoked: string[]
  beforeEach(() => {
    revoked = []
    vi.spyOn(URL, 'revokeObjectURL').mockImplementation((u: string) => void revoked.push(u))
  })
  afterEach(() => vi.restoreAllMocks())

  it('drops an upload once another id is typed, or the type takes another kind of media', () => {
    const a: EditorAttachment = { ...newAttachment('image'), media_id: 'M1', uploads: { media_id: uploaded('M1') } }
    reconcileUploads(a)
    expect(a.uploads.media_id?.mediaId).toBe('M1')
    a.media_id = 'typed'
    reconcileUploads(a)
    expect(a.uploads).toEqual({})
    expect(revoked).toEqual(['blob:M1'])

    // An uploaded image is no video: the id goes too.
    const b: EditorAttachment = { ...newAttachment('image'), media_id: 'M2', uploads: { media_id: uploaded('M2') } }
    b.type = 'video'
    reconcileUploads(b)
    expect([b.media_id, b.uploads]).toEqual(['', {}])
    // WeCom keeps a video's media as a video: it is no file's media either.
    const c: EditorAttachment = { ...newAttachment('video'), media_id: 'V', uploads: { media_id: uploaded('V', { mediaType: 'video', previewUrl: '' }) } }
    c.type = 'file'
    reconcileUploads(c)
    expect(c.media_id).toBe('')
    // A type that does not use the field leaves it (a mini program's cover while the attachment is a link).
    const d: EditorAttachment = { ...newAttachment('miniprogram'), cover_media_id: 'C', uploads: { cover_media_id: uploaded('C') } }
    d.type = 'link'
    reconcileUploads(d)
    expect(d.uploads.cover_media_id?.mediaId).toBe('C')
  })

  it('keeps the uploads of a saved draft whose ids it holds, and frees the others', () => {
    const before: EditorAttachment[] = [
      { ...newAttachment('image'), media_id: 'M1', uploads: { media_id: uploaded('M1') } },
      { ...newAttachment('miniprogram'), cover_media_id: 'C1', uploads: { cover_media_id: uploaded('C1') } },
      { ...newAttachment('image'), media_id: 'gone', uploads: { media_id: uploaded('gone') } },
    ]
    const next = [{ ...newAttachment('image'), media_id: 'M1' }, { ...newAttachment('miniprogram'), cover_media_id: 'C1' }]
    carryUploads(before, next)
    expect(next[0].uploads.media_id?.previewUrl).toBe('blob:M1')
    expect(next[1].uploads.cover_media_id?.previewUrl).toBe('blob:C1')
    expect(revoked).toEqual(['blob:gone'])
    releaseUploads(next[0])
    expect(next[0].uploads).toEqual({})
    expect(revoked).toEqual(['blob:gone', 'blob:M1'])
  })
})

describe('useMediaUpload', () => {
  const media = (over: Partial<MediaApi.Media> = {}): MediaApi.Media => ({
    id: 1, media_id: 'MEDIA_1', type: 'image', filename: 'poster.png', size: 8, expires_at: 1_700_000_000_000, ...over,
  })

  function setup(a: EditorAttachment, api: UploadApi, field: 'media_id' | 'cover_media_id' = 'media_id') {
    const scope = effectScope()
    const up = scope.run(() => useMediaUpload(() => ({ attachment: a, field }), api))!
    return { up, scope }
  }

  beforeEach(() => {
    vi.spyOn(URL, 'createObjectURL').mockImplementation(() => 'blob:local-1')
    vi.spyOn(URL, 'revokeObjectURL').mockImplementation(() => undefined)
  })
  afterEach(() => vi.restoreAllMocks())

  it('uploads an image as an image with its MIME type, and sets media_id, its details and a local copy', async () => {
    const api = vi.fn<UploadApi>(async () => media())
    const a = { ...newAttachment('image'), url: 'https://x.cn/old.png' }
    const { up } = setup(a, api)
    const f = file('poster.png', PNG, 'image/png')
    expect(await up.pick(f)).toBe(true)
    expect(api).toHaveBeenCalledTimes(1)
    const [body, type, name, contentType] = api.mock.calls[0]
    expect([body, type, name, contentType]).toEqual([f, 'image', 'poster.png', 'image/png'])
    expect(a.media_id).toBe('MEDIA_1')
    // The uploaded image replaces the address.
    expect(a.url).toBe('')
    expect(a.uploads.media_id).toEqual({
      mediaId: 'MEDIA_1', mediaType: 'image', name: 'poster.png', size: 8, previewUrl: 'blob:local-1', expiresAt: 1_700_000_000_000,
    })
    expect(up.uploading.value).toBe(false)
    expect(up.error.value).toBe('')
  })

  it('uploads a mini program\'s cover as an image, a file as a file (no local copy)', async () => {
    const api = vi.fn<UploadApi>(async (_f, type) => media({ media_id: `${type}-id`, type }))
    const mini = newAttachment('miniprogram')
    await setup(mini, api, 'cover_media_id').up.pick(file('cover.jpg', JPEG, 'image/jpeg'))
    expect(mini.cover_media_id).toBe('image-id')
    const doc = newAttachment('file')
    await setup(doc, api).up.pick(file('价目表.pdf', [1, 2, 3, 4, 5, 6, 7], 'application/pdf'))
    expect(api.mock.calls[1].slice(1, 4)).toEqual(['file', '价目表.pdf', 'application/pdf'])
    expect(doc.media_id).toBe('file-id')
    expect(doc.uploads.media_id?.previewUrl).toBe('')
  })

  it('sends nothing for a file WeCom would refuse, and says why', async () => {
    const api = vi.fn<UploadApi>(async () => media())
    const a = newAttachment('video')
    const { up } = setup(a, api)
    expect(await up.pick(file('clip.mov', MP4, 'video/quicktime'))).toBe(false)
    expect(up.error.value).toBe('视频只支持 MP4 格式')
    expect(await up.pick(file('big.mp4', [], 'video/mp4'))).toBe(false)
    expect(up.error.value).toBe('文件是空的，请重新选择')
    expect(api).not.toHaveBeenCalled()
    expect(a.media_id).toBe('')
  })

  it('shows the progress, then the server\'s refusal in words, keeping what the field had', async () => {
    let report: ((l: number, t: number) => void) | undefined
    let refuse!: (e: unknown) => void
    const api = vi.fn<UploadApi>((_f, _t, _n, _c, options) => {
      report = options?.onProgress
      return new Promise((_resolve, reject) => (refuse = reject))
    })
    const a = { ...newAttachment('video'), media_id: 'OLD' }
    const { up } = setup(a, api)
    const done = up.pick(file('clip.mp4', MP4, 'video/mp4'))
    await vi.waitFor(() => expect(api).toHaveBeenCalled())
    expect(up.uploading.value).toBe(true)
    expect(up.sending.value).toEqual({ name: 'clip.mp4', size: 12 })
    report!(3, 12)
    expect(up.percent.value).toBe(25)
    expect(up.processing.value).toBe(false)
    report!(12, 12)
    expect([up.percent.value, up.processing.value]).toEqual([100, true])
    refuse(new ApiError(400, 'media_format_invalid', 'video: not an MP4'))
    expect(await done).toBe(false)
    expect(up.uploading.value).toBe(false)
    expect(up.error.value).not.toBe('')
    expect(a.media_id).toBe('OLD')
  })

  it('cancels quietly, replaces the upload under way with a new one, and stops when its component goes', async () => {
    const signals: AbortSignal[] = []
    const api = vi.fn<UploadApi>((_f, _t, name, _c, options) => new Promise((resolve, reject) => {
      signals.push(options!.signal!)
      options!.signal!.addEventListener('abort', () => reject(new ApiError(0, 'aborted', 'upload aborted')))
      if (name === 'second.png') setTimeout(() => resolve(media({ media_id: 'SECOND' })), 0)
    }))
    const a = newAttachment('image')
    const { up, scope } = setup(a, api)
    const first = up.pick(file('first.png', PNG, 'image/png'))
    await vi.waitFor(() => expect(signals).toHaveLength(1))
    const second = up.pick(file('second.png', PNG, 'image/png'))
    expect(signals[0].aborted).toBe(true)
    expect(await first).toBe(false)
    expect(await second).toBe(true)
    expect(a.media_id).toBe('SECOND')
    expect(up.error.value).toBe('')

    const third = up.pick(file('third.png', PNG, 'image/png'))
    await vi.waitFor(() => expect(signals).toHaveLength(3))
    up.cancel()
    expect(await third).toBe(false)
    expect([up.uploading.value, up.error.value, a.media_id]).toEqual([false, '', 'SECOND'])

    void up.pick(file('fourth.png', PNG, 'image/png'))
    await vi.waitFor(() => expect(signals).toHaveLength(4))
    scope.stop()
    expect(signals[3].aborted).toBe(true)
  })

  it('removes an upload: the field is cleared and the local copy freed', async () => {
    const a = newAttachment('image')
    const { up } = setup(a, vi.fn<UploadApi>(async () => media()))
    await up.pick(file('poster.png', PNG, 'image/png'))
    up.remove()
    await nextTick()
    expect([a.media_id, a.uploads]).toEqual(['', {}])
    expect(URL.revokeObjectURL).toHaveBeenCalledWith('blob:local-1')
  })
})
