// The content and the target of a mass message (群发) as the composer edits them, and the checks the server makes on
// them (src/domain/messaging/content.h, messaging.h), so that the composer can say what is wrong before anything is
// sent. The server's answer stays the truth: these checks only mirror it.
import { mediaFileUrl } from '@/api/media'
import type { MessagesApi } from '@/api/messages'
import type { SegmentsApi } from '@/api/segments'

/** The variable replaced by each customer's name. */
export const NAME_VARIABLE = '{客户名称}'
/** The text's budget in UTF-8 bytes, a name counting NAME_BYTES. */
export const TEXT_MAX_BYTES = 4000
export const NAME_BYTES = 64
/** The title (the operator's name for the message), in characters (code points). */
export const TITLE_MAX_CHARS = 40
/** Field limits of attachments, in bytes. */
export const URL_MAX_BYTES = 2048
export const LINK_TITLE_MAX_BYTES = 128
export const LINK_DESCRIPTION_MAX_BYTES = 512
export const MINI_TITLE_MAX_BYTES = 64
export const ID_MAX_BYTES = 256
/** A personalised text makes one WeCom message per customer: at most this many customers. */
export const PERSONALISED_MAX = 2000
/** Customers picked one by one. */
export const SELECTED_MAX = 10_000
/** Groups picked one by one, and employees whose groups a message to groups may name. */
export const GROUPS_SELECTED_MAX = 2000
export const GROUP_OWNERS_MAX = 1000

/** Whom a mass message goes to: customers (the default) or customer group chats. */
export type Audience = MessagesApi.Audience
export const AUDIENCES = ['customers', 'groups'] as const satisfies readonly Audience[]

export const ATTACHMENT_TYPES = ['image', 'link', 'miniprogram', 'video', 'file'] as const satisfies readonly MessagesApi.AttachmentType[]
export type AttachmentType = (typeof ATTACHMENT_TYPES)[number]

/** What the team's rule pack allows beside the text. */
export interface ContentRules {
  maxAttachments: number
  types: readonly AttachmentType[]
}

/** The current packs' rules (wecom-2023 and wecom-2025): up to 9 attachments of any type. */
export const DEFAULT_CONTENT_RULES: ContentRules = { maxAttachments: 9, types: ATTACHMENT_TYPES }

/**
 * The content rules of the team's rule pack: the number from `mass.max_attachments` (an override counts), the types
 * from the pack (wecom-2020 allowed only an image, a link or a mini program; the types have no override key).
 */
export function contentRulesOf(setting: Pick<MessagesApi.RulePackSetting, 'pack' | 'values'> | null | undefined): ContentRules {
  if (!setting) return DEFAULT_CONTENT_RULES
  const max = setting.values.find((v) => v.key === 'mass.max_attachments')?.value
  return {
    maxAttachments: typeof max === 'number' ? max : DEFAULT_CONTENT_RULES.maxAttachments,
    types: setting.pack === 'wecom-2020' ? ['image', 'link', 'miniprogram'] : ATTACHMENT_TYPES,
  }
}

// ----- bytes and the name variable -------------------------------------------------------------------------------

/** The UTF-8 length of a string (a lone surrogate counts as the 3 bytes of U+FFFD). */
export function utf8Bytes(s: string): number {
  let n = 0
  for (const ch of s) {
    const cp = ch.codePointAt(0)!
    n += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4
  }
  return n
}

/** Characters as the server counts them (Unicode code points). */
export const charCount = (s: string): number => [...s].length

/** How often the name variable occurs in the text. */
export const nameCount = (text: string): number => text.split(NAME_VARIABLE).length - 1

/** Whether the text names the customer (one WeCom message per customer then). */
export const isPersonalised = (text: string): boolean => text.includes(NAME_VARIABLE)

/** A text of blanks (space, tab, CR, LF) is no text to the server. */
export const isBlank = (text: string): boolean => /^[ \t\r\n]*$/.test(text)

/** The bytes the text uses of its budget: UTF-8 bytes, each name variable counting NAME_BYTES; 0 for a blank text. */
export function textBytes(text: string): number {
  if (isBlank(text)) return 0
  const names = nameCount(text)
  return utf8Bytes(text) - names * utf8Bytes(NAME_VARIABLE) + names * NAME_BYTES
}

/** The text with the variable inserted in place of the selection [start, end); and where the caret goes. */
export function insertName(text: string, start: number | null | undefined, end: number | null | undefined): { text: string; caret: number } {
  const from = Math.max(0, Math.min(start ?? text.length, text.length))
  const to = Math.max(from, Math.min(end ?? from, text.length))
  return { text: text.slice(0, from) + NAME_VARIABLE + text.slice(to), caret: from + NAME_VARIABLE.length }
}

/** The text as a customer called `name` receives it (a name is cut to NAME_BYTES, on a character boundary). */
export function renderText(text: string, name: string): string {
  let cut = ''
  for (const ch of name) {
    if (utf8Bytes(cut + ch) > NAME_BYTES) break
    cut += ch
  }
  return text.split(NAME_VARIABLE).join(cut)
}

// ----- attachments as edited -------------------------------------------------------------------------------------

/** The fields that hold a WeCom media id: uploaded from the composer, or typed. */
export type MediaField = 'media_id' | 'cover_media_id'
export const MEDIA_FIELDS = ['media_id', 'cover_media_id'] as const satisfies readonly MediaField[]

/**
 * A file uploaded from the composer for a media field, as long as the field holds its `mediaId` (typing another id
 * drops it): what to show for it, and, for an image, a local address of the file (an object URL) for the thumbnail and
 * the preview ('' for other files).
 */
export interface UploadedMedia {
  mediaId: string
  mediaType: 'image' | 'video' | 'file'
  name: string
  size: number
  previewUrl: string
  /** Unix ms when WeCom drops the media (Koi uploads it again when a message is sent later) */
  expiresAt: number
}

/** An attachment in the composer: a slot for every field; its type says which count. */
export interface EditorAttachment {
  /** identifies it while edited (never sent) */
  key: number
  type: AttachmentType
  url: string
  title: string
  description: string
  cover: string
  appid: string
  page: string
  cover_media_id: string
  media_id: string
  /** files uploaded for the media fields (never sent) */
  uploads: Partial<Record<MediaField, UploadedMedia>>
}

let lastKey = 0

export function newAttachment(type: AttachmentType = 'image'): EditorAttachment {
  return {
    key: ++lastKey, type, url: '', title: '', description: '', cover: '', appid: '', page: '', cover_media_id: '', media_id: '', uploads: {},
  }
}

/** A saved attachment back in the composer. */
export function fromAttachment(a: MessagesApi.Attachment): EditorAttachment {
  const e = newAttachment(a.type)
  for (const f of ['url', 'title', 'description', 'cover', 'appid', 'page', 'cover_media_id', 'media_id'] as const) e[f] = a[f] ?? ''
  return e
}

/**
 * The fields of each type, in the server's order of checking: [field, required, max bytes, URL]. An image is either
 * uploaded (media_id) or given by its address (url): see IMAGE_SOURCES.
 */
export const ATTACHMENT_FIELDS: Record<AttachmentType, ReadonlyArray<{ field: AttachmentField; required: boolean; max: number; url: boolean }>> = {
  image: [
    { field: 'media_id', required: false, max: ID_MAX_BYTES, url: false },
    { field: 'url', required: false, max: URL_MAX_BYTES, url: true },
  ],
  link: [
    { field: 'title', required: true, max: LINK_TITLE_MAX_BYTES, url: false },
    { field: 'url', required: true, max: URL_MAX_BYTES, url: true },
    { field: 'description', required: false, max: LINK_DESCRIPTION_MAX_BYTES, url: false },
    { field: 'cover', required: false, max: URL_MAX_BYTES, url: true },
  ],
  miniprogram: [
    { field: 'title', required: true, max: MINI_TITLE_MAX_BYTES, url: false },
    { field: 'appid', required: true, max: ID_MAX_BYTES, url: false },
    { field: 'page', required: true, max: URL_MAX_BYTES, url: false },
    { field: 'cover_media_id', required: true, max: ID_MAX_BYTES, url: false },
  ],
  video: [{ field: 'media_id', required: true, max: ID_MAX_BYTES, url: false }],
  file: [{ field: 'media_id', required: true, max: ID_MAX_BYTES, url: false }],
}
export type AttachmentField = 'url' | 'title' | 'description' | 'cover' | 'appid' | 'page' | 'cover_media_id' | 'media_id'

/**
 * An image is sent as one of these, the first given (WeCom takes an image's media_id before its pic_url); with
 * neither, as an empty url (which the server refuses as required).
 */
export const IMAGE_SOURCES = ['media_id', 'url'] as const satisfies readonly AttachmentField[]

/** The fields of the attachment that are sent: its type's, but only the one source of an image. */
function sentFields(a: EditorAttachment | MessagesApi.Attachment) {
  const fields = ATTACHMENT_FIELDS[a.type]
  if (a.type !== 'image') return fields
  const source = IMAGE_SOURCES.find((f) => (a[f] ?? '').trim()) ?? 'url'
  return fields.filter((f) => f.field === source).map((f) => ({ ...f, required: true }))
}

/** The attachment as the API takes it: its type's fields, trimmed, optional ones left out when empty. */
export function toAttachment(a: EditorAttachment): MessagesApi.Attachment {
  const out: MessagesApi.Attachment = { type: a.type }
  for (const { field, required } of sentFields(a)) {
    const v = a[field].trim()
    if (required || v) out[field] = v
  }
  return out
}

/** The content as the API takes it. */
export function toContent(text: string, attachments: readonly EditorAttachment[]): MessagesApi.Content {
  return { text, attachments: attachments.map(toAttachment) }
}

/** An http:// or https:// URL with a host and no blank or control character (the server's test). */
export function isHttpUrl(url: string): boolean {
  const rest = url.startsWith('https://') ? url.slice(8) : url.startsWith('http://') ? url.slice(7) : ''
  if (!rest || rest.startsWith('/')) return false
  for (const ch of url) if (ch.codePointAt(0)! <= 0x20) return false
  return true
}

// ----- checks ------------------------------------------------------------------------------------------------------

export type ContentReason =
  | 'message_empty' | 'message_text_too_long' | 'message_attachments_exceeded' | 'message_attachment_not_allowed'
  | 'message_link_not_http' | 'message_attachment_invalid' | 'message_variable_groups'

/** What is wrong, as the server would say it (`reason`, `path`), and the locale key under messages.problems. */
export interface ContentProblem {
  reason: ContentReason
  /** the server's path of the field: content.text, content.attachments[1].url, … */
  path: string
  /** the attachment at fault (null: the text or the whole content) */
  index: number | null
  field: AttachmentField | 'type' | null
  key: 'empty' | 'textTooLong' | 'nameForGroups' | 'tooManyAttachments' | 'typeNotAllowed' | 'required' | RequiredUpload | 'tooLong' | 'notHttp'
    | 'pageHtml'
  values: Record<string, string | number>
}

/** A field to fill by uploading a file (or with a typed media id; an image also by its address). */
type RequiredUpload = 'imageRequired' | 'videoRequired' | 'fileRequired' | 'coverRequired'

/** The key of the problem of a required field left empty: what to upload, for the media fields. */
function requiredKey(type: AttachmentType, field: AttachmentField): ContentProblem['key'] {
  if (type === 'image') return 'imageRequired'
  if (field === 'cover_media_id') return 'coverRequired'
  if (field === 'media_id') return type === 'video' ? 'videoRequired' : 'fileRequired'
  return 'required'
}

/**
 * Every problem the server would find in the content under `rules`, in the order it checks (it reports the first):
 * the text's budget, the customer's name in a message to groups, an empty content, the number of attachments, then
 * each attachment's type and fields.
 */
export function contentProblems(
  text: string, attachments: readonly EditorAttachment[], rules: ContentRules, audience: Audience = 'customers',
): ContentProblem[] {
  const out: ContentProblem[] = []
  const bytes = textBytes(text)
  if (bytes > TEXT_MAX_BYTES) {
    out.push({ reason: 'message_text_too_long', path: 'content.text', index: null, field: null, key: 'textTooLong', values: { max: TEXT_MAX_BYTES, n: bytes, name: NAME_BYTES } })
  }
  if (audience === 'groups' && isPersonalised(text)) {
    out.push({ reason: 'message_variable_groups', path: 'content.text', index: null, field: null, key: 'nameForGroups', values: { name: NAME_VARIABLE } })
  }
  if (bytes === 0 && !attachments.length) {
    out.push({ reason: 'message_empty', path: 'content', index: null, field: null, key: 'empty', values: {} })
  }
  if (attachments.length > rules.maxAttachments) {
    out.push({ reason: 'message_attachments_exceeded', path: 'content.attachments', index: null, field: null, key: 'tooManyAttachments', values: { max: rules.maxAttachments } })
  }
  attachments.forEach((a, i) => {
    const at = `content.attachments[${i}]`
    if (!rules.types.includes(a.type)) {
      out.push({ reason: 'message_attachment_not_allowed', path: `${at}.type`, index: i, field: 'type', key: 'typeNotAllowed', values: { type: a.type } })
      return
    }
    for (const { field, required, max, url } of sentFields(a)) {
      const v = a[field].trim()
      const path = `${at}.${field}`
      if (!v) {
        if (required) out.push({ reason: 'message_attachment_invalid', path, index: i, field, key: requiredKey(a.type, field), values: {} })
        continue
      }
      if (utf8Bytes(v) > max) {
        out.push({ reason: 'message_attachment_invalid', path, index: i, field, key: 'tooLong', values: { max } })
      } else if (url && !isHttpUrl(v)) {
        out.push({ reason: 'message_link_not_http', path, index: i, field, key: 'notHttp', values: {} })
      } else if (field === 'page' && !v.endsWith('.html')) {
        out.push({ reason: 'message_attachment_invalid', path, index: i, field, key: 'pageHtml', values: {} })
      }
    }
  })
  return out
}

/** Why the server would refuse the title (1–40 characters once trimmed), or null. */
export function titleProblem(title: string): 'message_title_invalid' | null {
  const n = charCount(title.trim())
  return n === 0 || n > TITLE_MAX_CHARS ? 'message_title_invalid' : null
}

/**
 * Where a refusal of the server points in the composer, from its message ("content.attachments[1].url: required"):
 * the step (0 content, 1 target), the attachment and the field.
 */
export function locateServerPath(message: string): { step: 0 | 1 | null; index: number | null; field: string | null } {
  const path = /^([A-Za-z_.[\]0-9]+):/.exec(message)?.[1] ?? ''
  const att = /^content\.attachments\[(\d+)\](?:\.([a-z_]+))?/.exec(path)
  if (att) return { step: 0, index: Number(att[1]), field: att[2] ?? null }
  if (path.startsWith('content') || path === 'title') return { step: 0, index: null, field: path === 'title' || path === 'content.text' ? path.replace('content.', '') : null }
  if (path.startsWith('target') || path.startsWith('rule')) return { step: 1, index: null, field: null }
  return { step: null, index: null, field: null }
}

// ----- the preview -------------------------------------------------------------------------------------------------

/**
 * One chat bubble of the WeChat-like preview: the text first, then one per attachment. An uploaded image shows its
 * local copy (`url` an object URL, `mediaId` set); one uploaded earlier (a saved draft, a sent message) the file Koi
 * keeps for its media id.
 */
export type Bubble =
  | { kind: 'text'; text: string }
  | { kind: 'image'; url: string; mediaId: string }
  | { kind: 'link'; title: string; description: string; cover: string; url: string }
  | { kind: 'miniprogram'; title: string; appid: string; cover: string }
  | { kind: 'video' | 'file'; mediaId: string; name: string; size: number | null }

/** The file uploaded for `field` while the field still holds its media id, or null. */
export function uploadOf(a: EditorAttachment | MessagesApi.Attachment, field: MediaField): UploadedMedia | null {
  const up = 'uploads' in a ? a.uploads[field] : undefined
  const id = (a[field] ?? '').trim()
  return up && id && up.mediaId === id ? up : null
}

/** The bubbles a customer called `name` sees. */
export function previewBubbles(text: string, attachments: readonly (EditorAttachment | MessagesApi.Attachment)[], name: string): Bubble[] {
  const out: Bubble[] = []
  if (!isBlank(text)) out.push({ kind: 'text', text: renderText(text, name) })
  for (const a of attachments) {
    const f = (k: AttachmentField) => (a[k] ?? '').trim()
    switch (a.type) {
      case 'image': {
        const mediaId = f('media_id')
        out.push(mediaId ? { kind: 'image', url: uploadOf(a, 'media_id')?.previewUrl ?? mediaFileUrl(mediaId), mediaId } : { kind: 'image', url: f('url'), mediaId: '' })
        break
      }
      case 'link': out.push({ kind: 'link', title: f('title'), description: f('description'), cover: f('cover'), url: f('url') }); break
      case 'miniprogram':
        out.push({ kind: 'miniprogram', title: f('title'), appid: f('appid'),
          cover: uploadOf(a, 'cover_media_id')?.previewUrl ?? (f('cover_media_id') ? mediaFileUrl(f('cover_media_id')) : '') })
        break
      default: {
        const up = uploadOf(a, 'media_id')
        out.push({ kind: a.type, mediaId: f('media_id'), name: up?.name ?? '', size: up ? up.size : null })
      }
    }
  }
  return out
}

/** The host of a URL for a link card ('' when it has none). */
export function urlHost(url: string): string {
  return /^https?:\/\/([^/?#\s]+)/i.exec(url)?.[1] ?? ''
}

// ----- the target --------------------------------------------------------------------------------------------------

export type TargetMode = 'segment' | 'rule' | 'selection'

/** external_userid pasted as a list: split on blanks, commas and semicolons (also full-width), duplicates dropped. */
export function parseCustomerIds(text: string): string[] {
  const seen = new Set<string>()
  for (const id of text.split(/[\s,，;；]+/)) if (id) seen.add(id)
  return [...seen]
}

/**
 * The target as the API takes it, or why there is none yet: no segment picked, the rule unfinished (null), no
 * customer picked, or too many.
 */
export function toTarget(
  mode: TargetMode,
  parts: { segmentId: number | null; rule: SegmentsApi.Rule | null; customerIds: readonly string[] },
): { target: MessagesApi.Target | null; problem: 'noSegment' | 'ruleUnfinished' | 'noCustomers' | 'tooManyCustomers' | null } {
  switch (mode) {
    case 'segment':
      return parts.segmentId ? { target: { segment_id: parts.segmentId }, problem: null } : { target: null, problem: 'noSegment' }
    case 'rule':
      return parts.rule ? { target: { rule: parts.rule }, problem: null } : { target: null, problem: 'ruleUnfinished' }
    case 'selection':
      if (!parts.customerIds.length) return { target: null, problem: 'noCustomers' }
      if (parts.customerIds.length > SELECTED_MAX) return { target: null, problem: 'tooManyCustomers' }
      return { target: { customer_ids: [...parts.customerIds] }, problem: null }
  }
}

/** The mode of a saved target. */
export function targetMode(target: MessagesApi.Target | null | undefined): TargetMode {
  if (target?.customer_ids?.length) return 'selection'
  if (target?.rule) return 'rule'
  return 'segment'
}

// ----- the target of a message to groups -----------------------------------------------------------------------------

/** Groups by their owners, by group tag, or picked one by one. */
export type GroupTargetMode = 'owner' | 'tag' | 'chat'
export const GROUP_TARGET_MODES = ['owner', 'tag', 'chat'] as const satisfies readonly GroupTargetMode[]
export type GroupTargetProblem = 'noOwners' | 'tooManyOwners' | 'noGroupTags' | 'noGroups' | 'tooManyGroups'

/** The target of a message to groups as the API takes it, or why there is none yet (nothing picked, too many). */
export function toGroupTarget(
  mode: GroupTargetMode,
  parts: { owners: readonly string[]; tagIds: readonly number[]; chatIds: readonly string[] },
): { target: MessagesApi.Target | null; problem: GroupTargetProblem | null } {
  switch (mode) {
    case 'owner':
      if (!parts.owners.length) return { target: null, problem: 'noOwners' }
      if (parts.owners.length > GROUP_OWNERS_MAX) return { target: null, problem: 'tooManyOwners' }
      return { target: { group_owners: [...parts.owners] }, problem: null }
    case 'tag':
      return parts.tagIds.length ? { target: { group_tag_ids: [...parts.tagIds] }, problem: null } : { target: null, problem: 'noGroupTags' }
    case 'chat':
      if (!parts.chatIds.length) return { target: null, problem: 'noGroups' }
      if (parts.chatIds.length > GROUPS_SELECTED_MAX) return { target: null, problem: 'tooManyGroups' }
      return { target: { chat_ids: [...parts.chatIds] }, problem: null }
  }
}

/** The mode of a saved target of a message to groups. */
export function groupTargetMode(target: MessagesApi.Target | null | undefined): GroupTargetMode {
  if (target?.chat_ids?.length) return 'chat'
  if (target?.group_tag_ids?.length) return 'tag'
  return 'owner'
}
