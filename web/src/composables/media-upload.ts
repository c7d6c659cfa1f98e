// Uploading the files of mass-message attachments (images, videos, files, a mini program's cover) to WeCom as
// temporary media: the checks WeCom makes on a file (kind, size, format), made before anything is sent, and the
// state of one upload (progress, failure, cancel). POST /api/v1/scrm/media answers the media id the attachment takes.
import { computed, getCurrentScope, onScopeDispose, ref } from 'vue'
import { i18n } from '@/locales'
import { ABORTED_REASON, ApiError, errorText } from '@/api/request'
import { mediaFileUrl, uploadMediaApi, type MediaApi } from '@/api/media'
import { ATTACHMENT_FIELDS, type AttachmentType, type EditorAttachment, type MediaField, type UploadedMedia } from './message-content'

export type MediaType = MediaApi.Type
export type MediaFormat = 'JPG' | 'PNG' | 'MP4'

/** A file must be larger than this (WeCom refuses files of 5 bytes or fewer). */
export const MEDIA_MIN_BYTES = 6
export const MB = 1024 * 1024

/** WeCom's limits on temporary media: the largest file, and the formats taken (none: any). */
export const MEDIA_LIMITS: Record<MediaType, { maxBytes: number; formats: readonly MediaFormat[] }> = {
  image: { maxBytes: 10 * MB, formats: ['JPG', 'PNG'] },
  video: { maxBytes: 10 * MB, formats: ['MP4'] },
  file: { maxBytes: 20 * MB, formats: [] },
}

/** Each format's MIME types (the first is sent when the browser gave none) and file name extensions. */
const FORMATS: Record<MediaFormat, { mime: readonly string[]; ext: readonly string[] }> = {
  JPG: { mime: ['image/jpeg', 'image/jpg', 'image/pjpeg'], ext: ['jpg', 'jpeg'] },
  PNG: { mime: ['image/png'], ext: ['png'] },
  MP4: { mime: ['video/mp4'], ext: ['mp4'] },
}

/** What the file picker offers for each kind (`accept`). */
export const MEDIA_ACCEPT: Record<MediaType, string> = {
  image: '.jpg,.jpeg,.png,image/jpeg,image/png',
  video: '.mp4,video/mp4',
  file: '',
}

/** The kind of media a field of an attachment takes: a mini program's cover is an image. */
export function mediaTypeOf(type: AttachmentType, field: MediaField): MediaType {
  if (field === 'cover_media_id' || type === 'image') return 'image'
  return type === 'video' ? 'video' : 'file'
}

/** What the user picked, as much as the checks need (a File is one). */
export interface PickedFile {
  name: string
  size: number
  type: string
}

/** Why a file cannot be uploaded as `mediaType`: the key under messages.upload.problems and its values. */
export interface MediaProblem {
  key: 'empty' | 'tooSmall' | 'tooLarge' | 'format' | 'content' | 'name'
  values: Record<string, string | number>
}

const extensionOf = (name: string): string => {
  const dot = name.lastIndexOf('.')
  return dot < 0 ? '' : name.slice(dot + 1).toLowerCase()
}
/** The MIME type the browser gave, without parameters ('' when none, or only the generic one). */
const mimeOf = (file: PickedFile): string => {
  const m = file.type.split(';')[0].trim().toLowerCase()
  return m === 'application/octet-stream' ? '' : m
}

/** The format of the file among `formats`: by its MIME type, or by its name when the browser gave no type; or null. */
function formatOf(file: PickedFile, formats: readonly MediaFormat[]): MediaFormat | null {
  const mime = mimeOf(file)
  const ext = extensionOf(file.name)
  return formats.find((f) => (mime ? FORMATS[f].mime.includes(mime) : FORMATS[f].ext.includes(ext))) ?? null
}

/** "2 KB", "1.5 MB", "20 MB", "12 B" */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`
  const [value, unit] = n < MB ? [n / 1024, 'KB'] : [n / MB, 'MB']
  return `${Number(value.toFixed(value < 10 ? 1 : 0))} ${unit}`
}

/** The formats of `mediaType` for a message ("JPG / PNG"). */
export const formatsText = (mediaType: MediaType): string => MEDIA_LIMITS[mediaType].formats.join(' / ')

/**
 * Why WeCom would refuse the file as `mediaType`, or null: a name, more than 5 bytes, at most the kind's size, and
 * the kind's format (image JPG or PNG, video MP4, file any).
 */
export function mediaProblem(file: PickedFile, mediaType: MediaType): MediaProblem | null {
  const { maxBytes, formats } = MEDIA_LIMITS[mediaType]
  if (!file.name.trim()) return { key: 'name', values: {} }
  if (file.size === 0) return { key: 'empty', values: {} }
  if (file.size < MEDIA_MIN_BYTES) return { key: 'tooSmall', values: { min: MEDIA_MIN_BYTES - 1 } }
  if (file.size > maxBytes) return { key: 'tooLarge', values: { max: formatBytes(maxBytes), size: formatBytes(file.size) } }
  if (formats.length && !formatOf(file, formats)) return { key: 'format', values: { formats: formatsText(mediaType) } }
  return null
}

/** The Content-Type to send the file with: its MIME type, or one from its format or name, or the generic one. */
export function contentTypeOf(file: PickedFile, mediaType: MediaType): string {
  const mime = mimeOf(file)
  if (mime) return mime
  const format = formatOf(file, MEDIA_LIMITS[mediaType].formats.length ? MEDIA_LIMITS[mediaType].formats : ['JPG', 'PNG', 'MP4'])
  return format ? FORMATS[format].mime[0] : 'application/octet-stream'
}

/** Whether the first bytes of a file are those of `format` (JPEG FF D8 FF, PNG's signature, an MP4's ftyp box). */
export function hasSignature(head: Uint8Array, format: MediaFormat): boolean {
  const starts = (bytes: readonly number[], at = 0) => bytes.every((b, i) => head[at + i] === b)
  switch (format) {
    case 'JPG': return starts([0xff, 0xd8, 0xff])
    case 'PNG': return starts([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
    case 'MP4': return starts([0x66, 0x74, 0x79, 0x70], 4)
  }
}

/** Reads the first bytes of a blob ('' array when it cannot be read). */
async function headOf(file: Blob, n: number): Promise<Uint8Array> {
  try {
    return new Uint8Array(await file.slice(0, n).arrayBuffer())
  } catch {
    return new Uint8Array()
  }
}

/**
 * The checks of mediaProblem, then, for an image or a video, whether the file's first bytes are of one of its formats
 * (a renamed file): WeCom would refuse it after the whole file was sent.
 */
export async function checkMedia(file: Blob & PickedFile, mediaType: MediaType): Promise<MediaProblem | null> {
  const problem = mediaProblem(file, mediaType)
  if (problem) return problem
  const { formats } = MEDIA_LIMITS[mediaType]
  if (!formats.length) return null
  const head = await headOf(file, 16)
  if (!head.length) return null // cannot tell: the server will
  return formats.some((f) => hasSignature(head, f)) ? null : { key: 'content', values: { formats: formatsText(mediaType) } }
}

/** The text of a problem in the user's language. */
export function mediaProblemText(problem: MediaProblem, mediaType: MediaType): string {
  const t = i18n.global.t as (key: string, values?: Record<string, unknown>) => string
  return t(`messages.upload.problems.${problem.key}`, { ...problem.values, kind: t(`messages.upload.kinds.${mediaType}`) })
}

// ----- the local copies of uploaded images -----------------------------------------------------------------------------

/** A local address of the file for an <img> ('' when the browser cannot make one). */
export function objectUrlOf(file: Blob): string {
  return typeof URL.createObjectURL === 'function' ? URL.createObjectURL(file) : ''
}

/** Frees the local copy of an uploaded file. */
export function releaseUpload(up: UploadedMedia | undefined | null): void {
  if (up?.previewUrl && typeof URL.revokeObjectURL === 'function') URL.revokeObjectURL(up.previewUrl)
}

/** Frees the local copies of every file uploaded for the attachment. */
export function releaseUploads(a: EditorAttachment): void {
  for (const up of Object.values(a.uploads)) releaseUpload(up)
  a.uploads = {}
}

/**
 * Drops the uploads that no longer fit the attachment: the field holds another media id now (typed over), or the
 * attachment changed to a type that uses the field for another kind of media (an uploaded image is no video: the id
 * is cleared too).
 */
export function reconcileUploads(a: EditorAttachment): void {
  for (const field of Object.keys(a.uploads) as MediaField[]) {
    const up = a.uploads[field]!
    const used = ATTACHMENT_FIELDS[a.type].some((f) => f.field === field)
    if (a[field].trim() !== up.mediaId) {
      releaseUpload(up)
      delete a.uploads[field]
    } else if (used && up.mediaType !== mediaTypeOf(a.type, field)) {
      releaseUpload(up)
      delete a.uploads[field]
      a[field] = ''
    }
  }
}

/**
 * The attachments of a saved draft (`next`) with the uploads of those edited before (`before`) whose media id they
 * still hold, so that the thumbnails stay after saving; the local copies of the others are freed.
 */
export function carryUploads(before: readonly EditorAttachment[], next: EditorAttachment[]): EditorAttachment[] {
  const byId = new Map<string, UploadedMedia>()
  for (const a of before) for (const up of Object.values(a.uploads)) if (up) byId.set(`${up.mediaType}:${up.mediaId}`, up)
  const kept = new Set<UploadedMedia>()
  for (const a of next) {
    for (const field of ['media_id', 'cover_media_id'] as const) {
      const up = byId.get(`${mediaTypeOf(a.type, field)}:${a[field].trim()}`)
      if (up && a[field].trim() && !kept.has(up)) {
        a.uploads[field] = up
        kept.add(up)
      }
    }
  }
  for (const up of byId.values()) if (!kept.has(up)) releaseUpload(up)
  return next
}

// ----- one upload --------------------------------------------------------------------------------------------------

export type UploadApi = typeof uploadMediaApi

/**
 * Uploading a file into one media field of an attachment: checks it first (no request for a file WeCom would refuse),
 * sends it with its progress (`percent`; `processing` once the body is sent, while Koi passes it to WeCom), and on
 * success sets the field's media id and the upload's details (an uploaded image replaces the image's address). A new
 * file replaces the one under way; `cancel` stops it; `remove` clears the field. `error` says what went wrong in the
 * user's language ('' none). Stops what is under way when the component goes.
 */
export function useMediaUpload(
  target: () => { attachment: EditorAttachment; field: MediaField },
  api: UploadApi = uploadMediaApi,
) {
  /** the file being sent (null: none) */
  const sending = ref<{ name: string; size: number } | null>(null)
  const loaded = ref(0)
  const total = ref(0)
  const error = ref('')
  let controller: AbortController | null = null

  const uploading = computed(() => sending.value !== null)
  const percent = computed(() => (total.value > 0 ? Math.min(100, Math.floor((loaded.value / total.value) * 100)) : 0))
  const processing = computed(() => uploading.value && total.value > 0 && loaded.value >= total.value)
  const mediaType = computed(() => {
    const { attachment, field } = target()
    return mediaTypeOf(attachment.type, field)
  })

  /** Checks and uploads `file`; resolves true once the field holds its media id. */
  async function pick(file: File): Promise<boolean> {
    cancel()
    error.value = ''
    const own = new AbortController()
    controller = own
    const kind = mediaType.value
    const problem = await checkMedia(file, kind)
    if (controller !== own) return false
    if (problem) {
      controller = null
      error.value = mediaProblemText(problem, kind)
      return false
    }
    sending.value = { name: file.name, size: file.size }
    loaded.value = 0
    total.value = file.size
    try {
      const media = await api(file, kind, file.name, contentTypeOf(file, kind), {
        signal: own.signal,
        onProgress: (l, t) => {
          if (controller !== own) return
          loaded.value = l
          total.value = t
        },
      })
      if (controller !== own) return false
      const { attachment, field } = target()
      releaseUpload(attachment.uploads[field])
      attachment[field] = media.media_id
      attachment.uploads[field] = {
        mediaId: media.media_id, mediaType: kind, name: media.filename || file.name, size: media.size || file.size,
        previewUrl: kind === 'image' ? objectUrlOf(file) : '', expiresAt: media.expires_at,
      }
      if (attachment.type === 'image' && field === 'media_id') attachment.url = ''
      return true
    } catch (e) {
      if (controller !== own || (e instanceof ApiError && e.reason === ABORTED_REASON)) return false
      error.value = errorText(e)
      return false
    } finally {
      if (controller === own) {
        controller = null
        sending.value = null
      }
    }
  }

  /** Stops the upload under way (the field keeps what it had). */
  function cancel() {
    const c = controller
    controller = null
    sending.value = null
    c?.abort()
  }

  /** Clears the field and forgets its upload. */
  function remove() {
    cancel()
    error.value = ''
    const { attachment, field } = target()
    releaseUpload(attachment.uploads[field])
    delete attachment.uploads[field]
    attachment[field] = ''
  }

  /** Fills the field with a file of the media library (uploaded before: nothing is sent now). */
  function takeStored(item: MediaApi.LibraryItem) {
    cancel()
    error.value = ''
    const { attachment, field } = target()
    releaseUpload(attachment.uploads[field])
    attachment[field] = item.media_id
    attachment.uploads[field] = {
      mediaId: item.media_id, mediaType: item.type, name: item.filename, size: item.size,
      previewUrl: item.type === 'image' ? mediaFileUrl(item.media_id) : '', expiresAt: item.expires_at,
    }
  }

  if (getCurrentScope()) onScopeDispose(cancel)

  return { sending, uploading, percent, processing, error, mediaType, pick, cancel, remove, takeStored }
}
