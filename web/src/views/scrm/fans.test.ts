import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { App } from 'vue'
import { ElMessage, ElMessageBox } from 'element-plus'
import { i18n } from '@/locales'
import { ApiError } from '@/api/request'
import {
  deleteFanAccountApi, getFanSubjectApi, listFanAccountsApi, listFansApi, setFanSubjectApi, type FansApi,
} from '@/api/fans'
import { FakeXhr } from '@/test-utils/fake-xhr'
import { all, click, mountApp, q, settle, testSession, text, type } from '@/test-utils/mount'
import FansPage from './fans.vue'

// importFansApi stays real: the upload goes through XMLHttpRequest (FakeXhr), so the test sees what is sent.
vi.mock('@/api/fans', async (importOriginal) => ({
  ...(await importOriginal<typeof import('@/api/fans')>()),
  getFanSubjectApi: vi.fn(), setFanSubjectApi: vi.fn(), listFansApi: vi.fn(), listFanAccountsApi: vi.fn(), deleteFanAccountApi: vi.fn(),
}))
vi.mock('element-plus', async (importOriginal) => {
  const ep = await importOriginal<typeof import('element-plus')>()
  return { ...ep, ElMessage: { success: vi.fn(), error: vi.fn() }, ElMessageBox: { confirm: vi.fn() } }
})

const SUBJECT = '上海锦鲤茶饮有限公司'
const account = (name: string, over: Partial<FansApi.Account> = {}): FansApi.Account => ({
  account_name: name, account_type: 'official', fans: 120, matched: 45, imported_at: 1_700_000_000_000, ...over,
})
const fan = (n: number, over: Partial<FansApi.Fan> = {}): FansApi.Fan => ({
  openid: `oOpen${n}abcdef`, unionid: `oUnion${n}abcdef`, nickname: `粉丝${n}`, account_name: '锦鲤茶饮服务号', account_type: 'official',
  imported_at: 1_700_000_000_000, customer: null, ...over,
})
const fanPage = (items: FansApi.Fan[], total = items.length, p = 1): FansApi.Page =>
  ({ items, total, page: p, page_size: 20, fans: 130, matched: 46 })
const lastQuery = () => vi.mocked(listFansApi).mock.lastCall?.[0]
const csv = (name = 'fans.csv', body = 'openid,unionid,nickname,entity\r\noOpen1abcdef,oUnion1abcdef,小锦,上海锦鲤茶饮有限公司\r\n', type = 'text/csv') =>
  new File([body], name, { type })

let app: App | null = null
async function mountPage() {
  ;({ app } = await mountApp({
    session: testSession({ role: 'admin' }),
    routes: [{ path: '/scrm/fans', component: FansPage }, { path: '/:any(.*)*', component: { render: () => null } }],
    path: '/scrm/fans',
  }))
}
/** picks `file` in the page's file input, as the browser does */
async function pickFile(file: File) {
  const input = q('fans-file-input') as HTMLInputElement
  Object.defineProperty(input, 'files', { value: [file], configurable: true })
  input.dispatchEvent(new Event('change'))
  await settle()
}
const disabled = (test: string) => (q(test) as HTMLButtonElement).disabled

beforeEach(() => {
  i18n.global.locale.value = 'zh-CN'
  FakeXhr.reset()
  vi.stubGlobal('XMLHttpRequest', FakeXhr)
  vi.mocked(getFanSubjectApi).mockReset().mockResolvedValue({ subject: SUBJECT })
  vi.mocked(setFanSubjectApi).mockReset()
  vi.mocked(listFanAccountsApi).mockReset().mockResolvedValue({
    items: [account('锦鲤茶饮服务号'), account('锦鲤点单', { account_type: 'miniprogram', fans: 10, matched: 1 })],
  })
  vi.mocked(listFansApi).mockReset().mockResolvedValue(fanPage([
    fan(1, { customer: { external_userid: 'wm/A', name: '陈总' } }),
    fan(2, { nickname: '', account_name: '锦鲤点单', account_type: 'miniprogram' }),
  ], 45))
  vi.mocked(deleteFanAccountApi).mockReset()
  vi.mocked(ElMessage.success).mockReset()
  vi.mocked(ElMessageBox.confirm).mockReset().mockResolvedValue('confirm' as never)
})
afterEach(() => {
  app?.unmount()
  app = null
  document.body.innerHTML = ''
  vi.unstubAllGlobals()
})

describe('the fan matching page', () => {
  it('asks for the corp\'s entity first: importing waits for it, with a hint; then it is saved', async () => {
    vi.mocked(getFanSubjectApi).mockResolvedValue({ subject: '' })
    await mountPage()
    expect(q('fans-subject-input')).not.toBeNull()
    expect(q('fans-subject-cancel')).toBeNull()
    expect(text(q('fans-subject-hint'))).toContain('营业执照')
    expect(text(q('fans-import-needs-subject'))).toBe('请先设置企业主体名称，才能导入粉丝')
    expect(disabled('fans-import-submit')).toBe(true)

    // an empty name is not sent
    await click('fans-subject-save')
    expect(setFanSubjectApi).not.toHaveBeenCalled()
    expect(text(q('fans-subject-error'))).toBe('请填写企业主体名称')

    vi.mocked(setFanSubjectApi).mockResolvedValueOnce({ subject: SUBJECT })
    await type('fans-subject-input', `  ${SUBJECT} `)
    await click('fans-subject-save')
    expect(setFanSubjectApi).toHaveBeenCalledWith(SUBJECT)
    expect(ElMessage.success).toHaveBeenCalledWith('企业主体名称已保存')
    expect(text(q('fans-subject-value'))).toBe(SUBJECT)
    expect(q('fans-subject-input')).toBeNull()
    expect(q('fans-import-needs-subject')).toBeNull()
    expect(disabled('fans-import-submit')).toBe(false)
    // the template's example fan is of the entity saved
    const href = q('fans-template')!.getAttribute('href')!
    expect(href.startsWith('data:text/csv;charset=utf-8,')).toBe(true)
    expect(decodeURIComponent(href.slice(href.indexOf(',') + 1))).toMatch(new RegExp(`^\\uFEFFopenid,unionid,nickname,entity\\r\\n[^,]+,[^,]+,小锦,${SUBJECT}\\r\\n$`))
    expect(q('fans-template')!.getAttribute('download')).toBe('fans-template.csv')
  })

  it('shows a refused entity name, and edits a saved one', async () => {
    await mountPage()
    expect(text(q('fans-subject-value'))).toBe(SUBJECT)
    await click('fans-subject-edit')
    expect((q('fans-subject-input')!.querySelector('input') ?? q('fans-subject-input') as HTMLInputElement).value).toBe(SUBJECT)
    // importing waits while the entity is being edited
    expect(disabled('fans-import-submit')).toBe(true)
    vi.mocked(setFanSubjectApi).mockRejectedValueOnce(new ApiError(422, 'wecom_not_linked', 'no corp'))
    await type('fans-subject-input', '另一家公司')
    await click('fans-subject-save')
    expect(text(q('fans-subject-error'))).toBe(i18n.global.t('errors.wecom_not_linked'))
    await click('fans-subject-cancel')
    expect(text(q('fans-subject-value'))).toBe(SUBJECT)
    expect(disabled('fans-import-submit')).toBe(false)
  })

  it('uploads the raw file with the account in the address, with its progress, then shows the result', async () => {
    document.cookie = 'koi_csrf=tok; path=/'
    await mountPage()
    await type('fans-account-name', ' 锦鲤点单 ')
    q('fans-account-type-miniprogram')!.querySelector('input')!.click()
    await settle()
    const file = csv()
    await pickFile(file)
    expect(text(q('fans-file-name'))).toContain('fans.csv')
    const accountLoads = vi.mocked(listFanAccountsApi).mock.calls.length
    await click('fans-import-submit')

    const xhr = FakeXhr.last
    expect(xhr.method).toBe('POST')
    expect(xhr.url).toBe(`/api/v1/scrm/fans/import?account_name=${encodeURIComponent('锦鲤点单')}&account_type=miniprogram`)
    expect(xhr.body).toBe(file)
    expect(xhr.headers['Content-Type']).toBe('text/csv')
    expect(xhr.headers['X-CSRF-Token']).toBe('tok')

    xhr.progress(40, 100)
    await settle()
    expect(q('fans-import-progress')!.dataset.percent).toBe('40')
    expect(text(q('fans-import-status'))).toBe('正在上传 40%')
    xhr.upload.onload?.()
    await settle()
    expect(text(q('fans-import-status'))).toBe('正在导入并匹配客户…')

    xhr.respond(200, { code: 0, data: { rows: 5, added: 5, updated: 0, matched: 3 } })
    await settle()
    await settle()
    expect(q('fans-import-progress')).toBeNull()
    expect(text(q('fans-import-result'))).toBe('导入 5 位粉丝：新增 5，更新 0，匹配客户 3')
    expect(ElMessage.success).toHaveBeenCalledWith('导入完成')
    // the accounts and the fans are listed again; the file is done with
    expect(vi.mocked(listFanAccountsApi).mock.calls.length).toBe(accountLoads + 1)
    expect(lastQuery()).toEqual({ page: 1, page_size: 20 })
    expect(q('fans-file-name')).toBeNull()

    i18n.global.locale.value = 'en-US'
    await settle()
    expect(text(q('fans-import-result'))).toBe('Imported 5 fans: 5 new, 0 updated, 3 matched to customers')
    document.cookie = 'koi_csrf=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/'
  })

  it('lists the bad rows of a refused file with their reasons in words', async () => {
    await mountPage()
    await type('fans-account-name', '锦鲤茶饮服务号')
    await pickFile(csv())
    await click('fans-import-submit')
    FakeXhr.last.respond(400, {
      code: 400, reason: 'fan_rows_invalid', message: '3 rows are not valid; nothing was imported',
      details: { rows: [
        { row: 3, reason: 'fan_openid_invalid', value: 'x' },
        { row: 3, reason: 'fan_unionid_invalid', value: '' },
        { row: 7, reason: 'fan_openid_duplicate', value: 'oOpen1abcdef' },
      ] },
    })
    await settle()
    expect(text(q('fans-import-error'))).toBe('文件中有数据不正确的行，未导入任何粉丝，请修改后重新上传')
    expect(q('fans-import-result')).toBeNull()
    const table = q('fans-import-rows')!
    expect(all('fans-import-row-line', table).map(text)).toEqual(['第 3 行', '第 3 行', '第 7 行'])
    expect(all('fans-import-row-reason', table).map(text)).toEqual([
      'openid 不正确（应为 6–64 位字母、数字、_ 或 -）', 'unionid 为空或不正确（应为 6–64 位字母、数字、_ 或 -）', 'openid 在文件中重复出现',
    ])
    expect(all('fans-import-row-value', table).map(text)).toEqual(['x', '—', 'oOpen1abcdef'])
    // all of it follows a change of language
    i18n.global.locale.value = 'en-US'
    await settle()
    expect(text(q('fans-import-error'))).toBe('Some rows of the file are not valid; nothing was imported. Fix them and upload again')
    expect(all('fans-import-row-line', table).map(text)).toEqual(['Line 3', 'Line 3', 'Line 7'])
    expect(text(all('fans-import-row-reason', table)[2])).toBe('The openid appears more than once in the file')
    i18n.global.locale.value = 'zh-CN'
    await settle()
    // picking another file clears them
    await pickFile(csv('fixed.csv'))
    expect(q('fans-import-rows')).toBeNull()
    expect(q('fans-import-error')).toBeNull()
  })

  it('shows a refused entity with the server\'s words naming the row', async () => {
    await mountPage()
    await type('fans-account-name', '别家服务号')
    await pickFile(csv())
    await click('fans-import-submit')
    const message = 'row 2 is of the entity "别家公司", not the corp\'s "上海锦鲤茶饮有限公司": WeChat gives one unionid only within one entity'
    FakeXhr.last.respond(422, { code: 422, reason: 'fan_subject_mismatch', message })
    await settle()
    expect(text(q('fans-import-error'))).toContain('文件中粉丝的主体名称与企业主体名称不一致，未导入任何粉丝')
    expect(text(q('fans-import-detail'))).toBe(message)
    expect(q('fans-import-rows')).toBeNull()
  })

  it('checks the account name and the file before sending anything', async () => {
    await mountPage()
    await pickFile(csv())
    await click('fans-import-submit')
    expect(text(q('fans-import-error'))).toBe('请填写公众号/小程序名称（1–30 个字）')
    await type('fans-account-name', '锦鲤茶饮服务号')
    await pickFile(csv('fans.xlsx', 'PK', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'))
    await click('fans-import-submit')
    expect(text(q('fans-import-error'))).toBe('请选择 .csv 格式的文件')
    const big = csv()
    Object.defineProperty(big, 'size', { value: 21 * 1024 * 1024 })
    await pickFile(big)
    await click('fans-import-submit')
    expect(text(q('fans-import-error'))).toBe('文件 21 MB，超过了 20 MB 的上限')
    await pickFile(csv('empty.csv', ''))
    await click('fans-import-submit')
    expect(text(q('fans-import-error'))).toBe('文件是空的')
    expect(FakeXhr.made).toHaveLength(0)
  })

  it('cancels an upload under way: nothing is shown as imported', async () => {
    await mountPage()
    await type('fans-account-name', '锦鲤茶饮服务号')
    await pickFile(csv())
    await click('fans-import-submit')
    const xhr = FakeXhr.last
    await click('fans-import-cancel')
    expect(xhr.aborted).toBe(true)
    expect(q('fans-import-progress')).toBeNull()
    expect(q('fans-import-error')).toBeNull()
    expect(q('fans-import-result')).toBeNull()
  })

  it('lists the accounts and deletes one\'s fans once the confirmation naming how many is accepted', async () => {
    await mountPage()
    expect(all('fans-account-row').map(text)).toEqual(['锦鲤茶饮服务号', '锦鲤点单'])
    expect(all('fans-account-type-tag').map(text)).toEqual(['公众号', '小程序'])
    expect(all('fans-account-fans').map(text)).toEqual(['120', '10'])
    expect(all('fans-account-matched').map(text)).toEqual(['45', '1'])

    // cancelled: nothing is deleted
    vi.mocked(ElMessageBox.confirm).mockRejectedValueOnce('cancel')
    all('fans-account-delete')[0].click()
    await settle()
    expect(ElMessageBox.confirm).toHaveBeenCalledTimes(1)
    expect(vi.mocked(ElMessageBox.confirm).mock.calls[0][0]).toBe(
      '删除公众号「锦鲤茶饮服务号」的 120 位粉丝？匹配到的客户将不再显示该公众号，此操作不可撤销。')
    expect(deleteFanAccountApi).not.toHaveBeenCalled()

    // the list shows that account's fans: it is shown unfiltered after the delete
    all('fans-account-view')[0].click()
    await settle()
    expect(lastQuery()).toEqual({ account_name: '锦鲤茶饮服务号', page: 1, page_size: 20 })
    vi.mocked(deleteFanAccountApi).mockResolvedValueOnce({ deleted: 120 })
    vi.mocked(listFanAccountsApi).mockResolvedValue({ items: [account('锦鲤点单', { account_type: 'miniprogram', fans: 10, matched: 1 })] })
    all('fans-account-delete')[0].click()
    await settle()
    await settle()
    expect(deleteFanAccountApi).toHaveBeenCalledWith('锦鲤茶饮服务号')
    expect(ElMessage.success).toHaveBeenCalledWith('已删除 120 位粉丝')
    expect(all('fans-account-row').map(text)).toEqual(['锦鲤点单'])
    expect(lastQuery()).toEqual({ page: 1, page_size: 20 })
  })

  it('shows a refused delete', async () => {
    await mountPage()
    vi.mocked(deleteFanAccountApi).mockRejectedValueOnce(new ApiError(404, 'fan_account_not_found', 'none'))
    all('fans-account-delete')[1].click()
    await settle()
    expect(vi.mocked(ElMessageBox.confirm).mock.calls[0][0]).toBe('删除小程序「锦鲤点单」的 10 位粉丝？匹配到的客户将不再显示该小程序，此操作不可撤销。')
    expect(text(q('fans-accounts-action-error'))).toBe('没有该公众号/小程序的粉丝，可能已被删除')
    expect(ElMessage.success).not.toHaveBeenCalled()
  })

  it('lists the fans with the customer each matches, searched and filtered from the first page', async () => {
    await mountPage()
    expect(lastQuery()).toEqual({ page: 1, page_size: 20 })
    expect(text(q('fans-totals'))).toBe('共 130 位粉丝，已匹配客户 46 位')
    expect(all('fan-row').map(text)).toEqual(['粉丝1', '—'])
    expect(all('fan-openid').map(text)).toEqual(['oOpen1abcdef', 'oOpen2abcdef'])
    const link = q('fan-customer-link')!
    expect(text(link)).toBe('陈总')
    expect(link.getAttribute('href')).toBe('/scrm/customers/wm%2FA')
    expect(all('fan-unmatched').map(text)).toEqual(['未匹配'])

    const input = q('fans-search')!.querySelector('input') ?? (q('fans-search') as HTMLInputElement)
    input.value = ' oUnion1 '
    input.dispatchEvent(new Event('input'))
    input.dispatchEvent(new KeyboardEvent('keyup', { key: 'Enter' }))
    await settle()
    expect(lastQuery()).toEqual({ q: 'oUnion1', page: 1, page_size: 20 })
    await click('fans-matched-yes')
    expect(lastQuery()).toEqual({ q: 'oUnion1', matched: 'yes', page: 1, page_size: 20 })
    expect(all('fans-account-option').map(text)).toEqual(['锦鲤茶饮服务号 · 公众号', '锦鲤点单 · 小程序'])
    all('fans-account-option')[1].click()
    await settle()
    expect(lastQuery()).toEqual({ q: 'oUnion1', matched: 'yes', account_name: '锦鲤点单', page: 1, page_size: 20 })

    vi.mocked(listFansApi).mockResolvedValue({ ...fanPage([]), fans: 130 })
    await click('fans-matched-no')
    expect(text(q('fans-no-match'))).toContain('没有符合条件的粉丝')
    await click('fans-reset-empty')
    expect(lastQuery()).toEqual({ page: 1, page_size: 20 })
    expect(text(q('fans-empty'))).toBe('还没有粉丝，导入后在这里查看')
  })

  it('says so when nothing was imported yet, in English too', async () => {
    vi.mocked(listFanAccountsApi).mockResolvedValue({ items: [] })
    vi.mocked(listFansApi).mockResolvedValue({ ...fanPage([]), fans: 0, matched: 0 })
    i18n.global.locale.value = 'en-US'
    await mountPage()
    expect(text(q('fans-accounts-empty'))).toBe('No fans imported yet')
    expect(text(q('fans-empty'))).toBe('No fans yet: import some above')
    expect(text(q('fans-totals'))).toBe('0 fans, 0 matched to customers')
    expect(text(q('fans-import-limits'))).toBe('UTF-8 or GBK (GB18030), at most 20 MB and 200,000 rows')
  })
})
