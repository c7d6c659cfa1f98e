import { describe, expect, it } from 'vitest'
import {
  contentProblems, contentRulesOf, DEFAULT_CONTENT_RULES, fromAttachment, groupTargetMode, insertName, isHttpUrl, locateServerPath, NAME_VARIABLE, nameCount,
  newAttachment, parseCustomerIds, previewBubbles, renderText, targetMode, textBytes, titleProblem, toAttachment, toContent, toGroupTarget, toTarget,
  utf8Bytes, type ContentRules, type EditorAttachment, type UploadedMedia,
} from './message-content'

const WECOM_2020: ContentRules = { maxAttachments: 1, types: ['image', 'link', 'miniprogram'] }
const att = (over: Partial<EditorAttachment>): EditorAttachment => ({ ...newAttachment(over.type ?? 'image'), ...over })
const reasons = (text: string, list: EditorAttachment[], rules = DEFAULT_CONTENT_RULES) => contentProblems(text, list, rules).map((p) => p.reason)

describe('bytes and the name variable', () => {
  it('counts UTF-8 bytes: ASCII 1, Chinese 3, an emoji 4', () => {
    expect(utf8Bytes('abc')).toBe(3)
    expect(utf8Bytes('锦鲤')).toBe(6)
    expect(utf8Bytes('😀')).toBe(4)
    expect(utf8Bytes('é')).toBe(2)
    expect(utf8Bytes(NAME_VARIABLE)).toBe(14)
  })

  it('counts a name as 64 bytes instead of the variable\'s own', () => {
    expect(textBytes('您好')).toBe(6)
    expect(nameCount(`${NAME_VARIABLE}您好${NAME_VARIABLE}`)).toBe(2)
    expect(textBytes(`${NAME_VARIABLE}您好`)).toBe(64 + 6)
    expect(textBytes(`${NAME_VARIABLE}${NAME_VARIABLE}`)).toBe(128)
    // A text of blanks is no text to the server.
    expect(textBytes(' \n\t ')).toBe(0)
  })

  it('refuses 4001 bytes but takes 4000, the names included', () => {
    expect(reasons('a'.repeat(4000), [])).toEqual([])
    expect(reasons('a'.repeat(4001), [])).toEqual(['message_text_too_long'])
    // 3936 + 64 = 4000: fits; one byte more does not.
    expect(reasons(`${'a'.repeat(3936)}${NAME_VARIABLE}`, [])).toEqual([])
    expect(reasons(`${'a'.repeat(3937)}${NAME_VARIABLE}`, [])).toEqual(['message_text_too_long'])
    const p = contentProblems('锦'.repeat(1334), [], DEFAULT_CONTENT_RULES)[0]
    expect(p).toMatchObject({ path: 'content.text', key: 'textTooLong', values: { n: 4002, max: 4000, name: 64 } })
  })

  it('inserts the variable at the caret, replacing a selection', () => {
    expect(insertName('您好', 0, 0)).toEqual({ text: `${NAME_VARIABLE}您好`, caret: NAME_VARIABLE.length })
    expect(insertName('亲爱的，', 3, 3)).toEqual({ text: `亲爱的${NAME_VARIABLE}，`, caret: 3 + NAME_VARIABLE.length })
    expect(insertName('亲爱的XX，', 3, 5).text).toBe(`亲爱的${NAME_VARIABLE}，`)
    // No caret known: at the end.
    expect(insertName('hi ', null, null).text).toBe(`hi ${NAME_VARIABLE}`)
  })

  it('renders the name, cut to 64 bytes on a character boundary', () => {
    expect(renderText(`${NAME_VARIABLE}，您好`, '陈总')).toBe('陈总，您好')
    const long = '鲤'.repeat(30) // 90 bytes
    expect(renderText(NAME_VARIABLE, long)).toBe('鲤'.repeat(21))
  })
})

describe('content checks as the server makes them', () => {
  it('wants a text or an attachment', () => {
    expect(reasons('', [])).toEqual(['message_empty'])
    expect(reasons('   ', [])).toEqual(['message_empty'])
    expect(reasons('', [att({ type: 'image', url: 'https://x.cn/a.png' })])).toEqual([])
  })

  it('follows the rule pack: wecom-2020 takes one image, link or mini program', () => {
    const two = [att({ type: 'image', url: 'https://x.cn/a.png' }), att({ type: 'image', url: 'https://x.cn/b.png' })]
    expect(reasons('hi', two, WECOM_2020)).toEqual(['message_attachments_exceeded'])
    expect(reasons('hi', two)).toEqual([])
    expect(reasons('hi', [att({ type: 'video', media_id: 'm1' })], WECOM_2020)).toEqual(['message_attachment_not_allowed'])
    expect(contentRulesOf({ pack: 'wecom-2020', values: [{ key: 'mass.max_attachments', value: 1, base: 1 }] })).toEqual(WECOM_2020)
    expect(contentRulesOf({ pack: 'wecom-2025', values: [{ key: 'mass.max_attachments', value: 4, base: 9 }] }).maxAttachments).toBe(4)
    expect(contentRulesOf(null)).toEqual(DEFAULT_CONTENT_RULES)
  })

  it('checks each type\'s fields, naming the attachment and the field', () => {
    const problems = contentProblems('hi', [
      att({ type: 'link', title: '', url: 'ftp://x.cn' }),
      att({ type: 'miniprogram', title: '小程序', appid: 'wx1', page: 'pages/index', cover_media_id: 'c1' }),
      att({ type: 'image', url: 'https://x.cn/a b.png' }),
      att({ type: 'link', title: 'x'.repeat(129), url: 'https://x.cn', cover: 'x.cn/c.png' }),
      att({ type: 'file', media_id: '' }),
    ], DEFAULT_CONTENT_RULES)
    expect(problems.map((p) => [p.reason, p.path, p.key])).toEqual([
      ['message_attachment_invalid', 'content.attachments[0].title', 'required'],
      ['message_link_not_http', 'content.attachments[0].url', 'notHttp'],
      ['message_attachment_invalid', 'content.attachments[1].page', 'pageHtml'],
      ['message_link_not_http', 'content.attachments[2].url', 'notHttp'],
      ['message_attachment_invalid', 'content.attachments[3].title', 'tooLong'],
      ['message_link_not_http', 'content.attachments[3].cover', 'notHttp'],
      ['message_attachment_invalid', 'content.attachments[4].media_id', 'fileRequired'],
    ])
    expect(problems[4].values).toEqual({ max: 128 })
    expect(problems[0].index).toBe(0)
  })

  it('takes http(s) URLs with a host only', () => {
    expect(isHttpUrl('https://koi.example/a?b=1')).toBe(true)
    expect(isHttpUrl('http://koi.example')).toBe(true)
    expect(isHttpUrl('https://')).toBe(false)
    expect(isHttpUrl('https:///path')).toBe(false)
    expect(isHttpUrl('javascript:alert(1)')).toBe(false)
    expect(isHttpUrl('https://a.cn/x y')).toBe(false)
  })

  it('takes titles of 1 to 40 characters once trimmed', () => {
    expect(titleProblem('  ')).toBe('message_title_invalid')
    expect(titleProblem('双十一')).toBeNull()
    expect(titleProblem('鲤'.repeat(40))).toBeNull()
    expect(titleProblem('鲤'.repeat(41))).toBe('message_title_invalid')
    expect(titleProblem('😀'.repeat(40))).toBeNull()
  })

  it('sends only the fields of the type, trimmed, without empty optional ones', () => {
    const a = att({ type: 'link', title: ' 秋季上新 ', url: 'https://x.cn ', description: '', cover: '', media_id: 'left over' })
    expect(toAttachment(a)).toEqual({ type: 'link', title: '秋季上新', url: 'https://x.cn' })
    expect(toContent('hi', [att({ type: 'video', media_id: 'm1', url: 'x' })])).toEqual({ text: 'hi', attachments: [{ type: 'video', media_id: 'm1' }] })
    expect(toAttachment(fromAttachment({ type: 'miniprogram', title: 't', appid: 'wx', page: 'a.html', cover_media_id: 'c' })))
      .toEqual({ type: 'miniprogram', title: 't', appid: 'wx', page: 'a.html', cover_media_id: 'c' })
  })

  it('asks for the files to upload by what they are', () => {
    const problems = contentProblems('', [
      att({ type: 'video' }), att({ type: 'file' }), att({ type: 'miniprogram', title: 't', appid: 'wx', page: 'a.html' }), att({ type: 'link', url: 'https://x.cn' }),
    ], DEFAULT_CONTENT_RULES)
    expect(problems.map((p) => [p.path, p.key])).toEqual([
      ['content.attachments[0].media_id', 'videoRequired'],
      ['content.attachments[1].media_id', 'fileRequired'],
      ['content.attachments[2].cover_media_id', 'coverRequired'],
      ['content.attachments[3].title', 'required'],
    ])
  })

  it('takes an image uploaded (media_id) or by its address, sending only one: the upload first', () => {
    expect(reasons('', [att({ type: 'image', media_id: 'M1' })])).toEqual([])
    expect(reasons('', [att({ type: 'image', url: 'https://x.cn/a.png' })])).toEqual([])
    const none = contentProblems('', [att({ type: 'image' })], DEFAULT_CONTENT_RULES)
    expect(none.map((p) => [p.reason, p.path, p.field, p.key])).toEqual([
      ['message_attachment_invalid', 'content.attachments[0].url', 'url', 'imageRequired'],
    ])
    // The address is not sent beside an upload, so it is not checked either.
    expect(reasons('', [att({ type: 'image', media_id: 'M1', url: 'not a url' })])).toEqual([])
    expect(reasons('', [att({ type: 'image', media_id: 'x'.repeat(257) })])).toEqual(['message_attachment_invalid'])
    expect(toAttachment(att({ type: 'image', media_id: ' M1 ', url: 'https://x.cn/a.png' }))).toEqual({ type: 'image', media_id: 'M1' })
    expect(toAttachment(att({ type: 'image', url: 'https://x.cn/a.png ' }))).toEqual({ type: 'image', url: 'https://x.cn/a.png' })
    expect(toAttachment(att({ type: 'image' }))).toEqual({ type: 'image', url: '' })
    expect(fromAttachment({ type: 'image', media_id: 'M1' })).toMatchObject({ type: 'image', media_id: 'M1', url: '', uploads: {} })
    // Uploads are never sent.
    expect(toAttachment(att({ type: 'video', media_id: 'V', uploads: { media_id: { mediaId: 'V', mediaType: 'video', name: 'a.mp4', size: 9, previewUrl: '', expiresAt: 1 } } })))
      .toEqual({ type: 'video', media_id: 'V' })
  })

  it('finds where a refusal of the server points', () => {
    expect(locateServerPath('content.attachments[1].url: must be an http:// or https:// URL')).toEqual({ step: 0, index: 1, field: 'url' })
    expect(locateServerPath('content.text: at most 4000 bytes')).toEqual({ step: 0, index: null, field: 'text' })
    expect(locateServerPath('title: 1 to 40 characters')).toEqual({ step: 0, index: null, field: 'title' })
    expect(locateServerPath('target.customer_ids: no such customer wm1')).toEqual({ step: 1, index: null, field: null })
    expect(locateServerPath('every customer of the target is skipped')).toEqual({ step: null, index: null, field: null })
  })
})

describe('preview', () => {
  it('shows the text with a sample name, then one bubble per attachment', () => {
    const bubbles = previewBubbles(`${NAME_VARIABLE}，秋季上新`, [
      att({ type: 'image', url: 'https://x.cn/a.png' }),
      att({ type: 'link', title: '新品', url: 'https://x.cn', cover: 'https://x.cn/c.png' }),
      att({ type: 'file', media_id: 'f1' }),
    ], '王小明')
    expect(bubbles).toEqual([
      { kind: 'text', text: '王小明，秋季上新' },
      { kind: 'image', url: 'https://x.cn/a.png', mediaId: '' },
      { kind: 'link', title: '新品', description: '', cover: 'https://x.cn/c.png', url: 'https://x.cn' },
      { kind: 'file', mediaId: 'f1', name: '', size: null },
    ])
    expect(previewBubbles('  ', [], 'x')).toEqual([])
  })

  it('shows uploaded files as uploaded here: the image\'s local copy, a file\'s name and size, the cover of a mini program', () => {
    const up = (mediaId: string, over: Partial<UploadedMedia> = {}): UploadedMedia => ({
      mediaId, mediaType: 'image', name: 'poster.png', size: 2048, previewUrl: `blob:${mediaId}`, expiresAt: 1, ...over,
    })
    const bubbles = previewBubbles('', [
      att({ type: 'image', media_id: 'M1', url: 'https://x.cn/ignored.png', uploads: { media_id: up('M1') } }),
      att({ type: 'file', media_id: 'F1', uploads: { media_id: up('F1', { mediaType: 'file', name: '价目表.pdf', previewUrl: '' }) } }),
      att({ type: 'miniprogram', title: '小程序', appid: 'wx1', cover_media_id: 'C1', uploads: { cover_media_id: up('C1') } }),
      // Uploaded earlier (a saved draft): the file Koi keeps for its media id.
      att({ type: 'image', media_id: 'OLD' }),
      // An id typed over the upload's: the upload is not this attachment's any more.
      att({ type: 'video', media_id: 'typed', uploads: { media_id: up('V1', { mediaType: 'video' }) } }),
    ], 'x')
    expect(bubbles).toEqual([
      { kind: 'image', url: 'blob:M1', mediaId: 'M1' },
      { kind: 'file', mediaId: 'F1', name: '价目表.pdf', size: 2048 },
      { kind: 'miniprogram', title: '小程序', appid: 'wx1', cover: 'blob:C1' },
      { kind: 'image', url: '/api/v1/scrm/media/file?media_id=OLD', mediaId: 'OLD' },
      { kind: 'video', mediaId: 'typed', name: '', size: null },
    ])
    // A saved attachment (from the API) has no uploads.
    expect(previewBubbles('', [{ type: 'image', media_id: 'M9' }], 'x')).toEqual([{ kind: 'image', url: '/api/v1/scrm/media/file?media_id=M9', mediaId: 'M9' }])
    expect(previewBubbles('', [{ type: 'miniprogram', title: 't', appid: 'wx', page: 'a.html', cover_media_id: 'C 9' }], 'x'))
      .toEqual([{ kind: 'miniprogram', title: 't', appid: 'wx', cover: '/api/v1/scrm/media/file?media_id=C%209' }])
  })
})

describe('target', () => {
  it('parses pasted external_userid lists', () => {
    expect(parseCustomerIds('wmA\nwmB, wmC；wmA  wmD,')).toEqual(['wmA', 'wmB', 'wmC', 'wmD'])
    expect(parseCustomerIds('  ')).toEqual([])
  })

  it('gives exactly one of segment, rule and selection, or why not', () => {
    const rule = { op: 'and' as const, children: [] }
    expect(toTarget('segment', { segmentId: 3, rule, customerIds: ['wmA'] })).toEqual({ target: { segment_id: 3 }, problem: null })
    expect(toTarget('segment', { segmentId: null, rule, customerIds: [] }).problem).toBe('noSegment')
    expect(toTarget('rule', { segmentId: 3, rule, customerIds: [] })).toEqual({ target: { rule }, problem: null })
    expect(toTarget('rule', { segmentId: 3, rule: null, customerIds: [] }).problem).toBe('ruleUnfinished')
    expect(toTarget('selection', { segmentId: 3, rule, customerIds: ['wmA'] })).toEqual({ target: { customer_ids: ['wmA'] }, problem: null })
    expect(toTarget('selection', { segmentId: null, rule: null, customerIds: [] }).problem).toBe('noCustomers')
    const many = Array.from({ length: 10_001 }, (_, i) => `wm${i}`)
    expect(toTarget('selection', { segmentId: null, rule: null, customerIds: many }).problem).toBe('tooManyCustomers')
    expect(targetMode({ customer_ids: ['a'] })).toBe('selection')
    expect(targetMode({ rule })).toBe('rule')
    expect(targetMode({ segment_id: 1 })).toBe('segment')
  })

  it('gives exactly one of owners, group tags and picked groups for groups, or why not', () => {
    const parts = { owners: ['zhangsan'], tagIds: [2], chatIds: ['wr1'] }
    expect(toGroupTarget('owner', parts)).toEqual({ target: { group_owners: ['zhangsan'] }, problem: null })
    expect(toGroupTarget('tag', parts)).toEqual({ target: { group_tag_ids: [2] }, problem: null })
    expect(toGroupTarget('chat', parts)).toEqual({ target: { chat_ids: ['wr1'] }, problem: null })
    const none = { owners: [], tagIds: [], chatIds: [] }
    expect(['owner', 'tag', 'chat'].map((m) => toGroupTarget(m as 'owner', none).problem)).toEqual(['noOwners', 'noGroupTags', 'noGroups'])
    const ids = (n: number) => Array.from({ length: n }, (_, i) => `x${i}`)
    expect(toGroupTarget('chat', { ...none, chatIds: ids(2000) }).problem).toBeNull()
    expect(toGroupTarget('chat', { ...none, chatIds: ids(2001) }).problem).toBe('tooManyGroups')
    expect(toGroupTarget('owner', { ...none, owners: ids(1001) }).problem).toBe('tooManyOwners')
    expect(groupTargetMode({ chat_ids: ['wr1'] })).toBe('chat')
    expect(groupTargetMode({ group_tag_ids: [2] })).toBe('tag')
    expect(groupTargetMode({ group_owners: ['zhangsan'] })).toBe('owner')
    expect(groupTargetMode(null)).toBe('owner')
  })

  it('refuses the customer name in a message to groups only', () => {
    const text = `${NAME_VARIABLE}，您好`
    expect(contentProblems(text, [], DEFAULT_CONTENT_RULES, 'customers')).toEqual([])
    expect(contentProblems(text, [], DEFAULT_CONTENT_RULES, 'groups')).toMatchObject([
      { reason: 'message_variable_groups', path: 'content.text', index: null, key: 'nameForGroups' },
    ])
    expect(contentProblems('您好', [], DEFAULT_CONTENT_RULES, 'groups')).toEqual([])
  })
})
