import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { effectScope } from 'vue'
import { i18n } from '@/locales'
import { ApiError } from '@/api/request'
import { fanRowErrors, importFansApi } from '@/api/fans'
import { FakeXhr } from '@/test-utils/fake-xhr'
import {
  csvCell, FAN_FILE_MAX_BYTES, fanImportProblem, fanQuery, fanRowReasonText, fanSubjectProblem, fanTemplateCsv, fanTemplateHref,
  useFanImport, type ImportApi,
} from './use-fans'

beforeEach(() => {
  i18n.global.locale.value = 'zh-CN'
})
afterEach(() => {
  vi.unstubAllGlobals()
})

describe('the template', () => {
  it('is the header row and one example fan of the corp\'s entity, quoted as CSV needs', () => {
    const lines = fanTemplateCsv('上海锦鲤茶饮有限公司').split('\r\n')
    expect(lines[0]).toBe('openid,unionid,nickname,entity')
    expect(lines[1].split(',')).toHaveLength(4)
    expect(lines[1].endsWith(',小锦,上海锦鲤茶饮有限公司')).toBe(true)
    expect(lines[2]).toBe('')
    // the example ids are valid ones (6–64 of A-Z a-z 0-9 _ -)
    for (const id of lines[1].split(',').slice(0, 2)) expect(id).toMatch(/^[A-Za-z0-9_-]{6,64}$/)
    expect(fanTemplateCsv('Koi, "Tea" Ltd').split('\r\n')[1].endsWith(',"Koi, ""Tea"" Ltd"')).toBe(true)
    // without an entity yet, an example one
    expect(fanTemplateCsv(' ').split('\r\n')[1].endsWith(',上海锦鲤茶饮有限公司')).toBe(true)
    expect(csvCell('a\nb')).toBe('"a\nb"')
    expect(csvCell('plain')).toBe('plain')
  })

  it('is a link to a UTF-8 file with a byte order mark', () => {
    const href = fanTemplateHref('锦鲤')
    expect(href.startsWith('data:text/csv;charset=utf-8,%EF%BB%BF')).toBe(true)
    expect(decodeURIComponent(href.slice(href.indexOf(',') + 1))).toBe(`\uFEFF${fanTemplateCsv('锦鲤')}`)
  })
})

describe('the checks before sending', () => {
  it('wants an entity name of 1–100 characters', () => {
    expect(fanSubjectProblem('  ')).toBe('请填写企业主体名称')
    expect(fanSubjectProblem('锦'.repeat(100))).toBe('')
    expect(fanSubjectProblem('锦'.repeat(101))).toBe('企业主体名称最多 100 个字')
  })

  it('wants an account name of 1–30 characters and a non-empty CSV file of at most 20 MB', () => {
    const file = (name: string, size: number, type = '') => ({ name, size, type })
    expect(fanImportProblem('', file('a.csv', 10))).toBe('请填写公众号/小程序名称（1–30 个字）')
    expect(fanImportProblem('号'.repeat(31), file('a.csv', 10))).toBe('请填写公众号/小程序名称（1–30 个字）')
    expect(fanImportProblem('号'.repeat(30), null)).toBe('请选择要导入的 CSV 文件')
    expect(fanImportProblem('服务号', file('a.CSV', 10))).toBe('')
    // Excel on Windows gives a .csv the type of its own files: the name decides
    expect(fanImportProblem('服务号', file('a.csv', 10, 'application/vnd.ms-excel'))).toBe('')
    expect(fanImportProblem('服务号', file('fans', 10, 'text/csv; charset=utf-8'))).toBe('')
    expect(fanImportProblem('服务号', file('a.xlsx', 10))).toBe('请选择 .csv 格式的文件')
    expect(fanImportProblem('服务号', file('a.csv', 0))).toBe('文件是空的')
    expect(fanImportProblem('服务号', file('a.csv', FAN_FILE_MAX_BYTES))).toBe('')
    expect(fanImportProblem('服务号', file('a.csv', FAN_FILE_MAX_BYTES + 1))).toBe('文件 20 MB，超过了 20 MB 的上限')
  })
})

describe('the outcome of an import', () => {
  it('reads the bad rows of fan_rows_invalid only', () => {
    const rows = [{ row: 2, reason: 'fan_nickname_too_long', value: '长'.repeat(64) }]
    expect(fanRowErrors(new ApiError(400, 'fan_rows_invalid', '', null, { rows }))).toEqual(rows)
    expect(fanRowErrors(new ApiError(400, 'fan_rows_invalid', '', null, { rows: [{ row: 'x' }, null, { row: 4, reason: 'fan_openid_invalid' }] })))
      .toEqual([{ row: 4, reason: 'fan_openid_invalid', value: '' }])
    expect(fanRowErrors(new ApiError(400, 'fan_rows_invalid', ''))).toEqual([])
    expect(fanRowErrors(new ApiError(400, 'fan_file_invalid', '', null, { rows }))).toEqual([])
    expect(fanRowErrors(new Error('x'))).toEqual([])
  })

  it('says a row\'s reason in words, in both languages', () => {
    expect(fanRowReasonText('fan_nickname_too_long')).toBe('昵称超过 64 个字')
    i18n.global.locale.value = 'en-US'
    expect(fanRowReasonText('fan_openid_duplicate')).toBe('The openid appears more than once in the file')
    expect(fanRowReasonText('something_new')).toBe('something_new')
  })

  it('keeps the details of a refused upload through XMLHttpRequest', async () => {
    FakeXhr.reset()
    vi.stubGlobal('XMLHttpRequest', FakeXhr)
    const pending = importFansApi(new Blob(['x']), '服务号', 'official').catch((e: unknown) => e)
    const rows = [{ row: 5, reason: 'fan_unionid_invalid', value: '' }]
    FakeXhr.last.respond(400, { code: 400, reason: 'fan_rows_invalid', message: '1 rows are not valid', details: { rows } })
    const err = (await pending) as ApiError
    expect(err).toBeInstanceOf(ApiError)
    expect(err.details).toEqual({ rows })
    expect(fanRowErrors(err)).toEqual(rows)
  })

  it('sends the trimmed account name, and stops the upload when its scope goes', async () => {
    let signal: AbortSignal | undefined
    const api = vi.fn<ImportApi>((_file, _name, _type, options) => {
      signal = options?.signal
      return new Promise(() => undefined)
    })
    const scope = effectScope()
    const importer = scope.run(() => useFanImport(api))!
    importer.form.accountName = ' 锦鲤点单 '
    importer.form.accountType = 'miniprogram'
    const file = new File(['openid'], 'fans.csv', { type: 'text/csv' })
    importer.pick(file)
    void importer.submit()
    expect(api).toHaveBeenCalledWith(file, '锦鲤点单', 'miniprogram', expect.anything())
    expect(importer.sending.value).toBe(true)
    // a second click while it goes sends nothing more
    expect(await importer.submit()).toBeNull()
    expect(api).toHaveBeenCalledTimes(1)
    scope.stop()
    expect(signal?.aborted).toBe(true)
    expect(importer.sending.value).toBe(false)
  })
})

describe('the fans list query', () => {
  it('leaves out what is not set', () => {
    expect(fanQuery({ matched: '', account: '' }, '  ')).toEqual({})
    expect(fanQuery({ matched: 'no', account: '锦鲤点单' }, ' 小锦 ')).toEqual({ q: '小锦', matched: 'no', account_name: '锦鲤点单' })
  })
})
