import { beforeEach, describe, expect, it, vi } from 'vitest'
import { ApiError } from '@/api/request'
import { i18n } from '@/locales'
import { useRemoteOptions } from './use-remote-options'

interface Item { id: string; title: string }
interface Option { id: string; name: string; known: boolean }

const page = (...items: Item[]) => ({ items })
const fetch = vi.fn<(q: string) => Promise<{ items: Item[] }>>()
const options = () => useRemoteOptions<Item, Option>({
  fetch,
  toOption: (i) => ({ id: i.id, name: i.title, known: true }),
  idOf: (o) => o.id,
  missing: (id, name) => ({ id, name, known: false }),
})
/** a search whose answer comes when `answer` or `fail` is called */
function held() {
  let answer!: (v: { items: Item[] }) => void
  let fail!: (e: unknown) => void
  fetch.mockImplementationOnce(() => new Promise((resolve, reject) => ((answer = resolve), (fail = reject))))
  return { answer: (...items: Item[]) => answer(page(...items)), fail: (e: unknown) => fail(e) }
}

beforeEach(() => {
  i18n.global.locale.value = 'zh-CN'
  fetch.mockReset().mockResolvedValue(page({ id: 'a', title: 'Alpha' }))
})

describe('useRemoteOptions', () => {
  it('searches with the trimmed text and makes the items choices, loading meanwhile', async () => {
    const o = options()
    const slow = held()
    const searching = o.search('  al ')
    expect(fetch).toHaveBeenCalledWith('al')
    expect(o.loading.value).toBe(true)
    slow.answer({ id: 'a', title: 'Alpha' })
    await searching
    expect(o.loading.value).toBe(false)
    expect(o.options.value).toEqual([{ id: 'a', name: 'Alpha', known: true }])
    expect(o.error.value).toBe('')
  })

  it('searches for everything without a text', async () => {
    await options().search()
    expect(fetch).toHaveBeenCalledWith('')
  })

  it('keeps only the answer to the latest search, and stays loading until it comes', async () => {
    const o = options()
    const first = held()
    const second = held()
    const a = o.search('a')
    const b = o.search('b')
    second.answer({ id: 'b', title: 'Beta' })
    await b
    first.answer({ id: 'a', title: 'Alpha' })
    await a
    expect(o.options.value.map((x) => x.id)).toEqual(['b'])
    expect(o.loading.value).toBe(false)

    const third = held()
    const c = o.search('c')
    await o.search('d')
    expect(o.loading.value).toBe(false)
    third.answer({ id: 'c', title: 'Gamma' })
    await c
    expect(o.options.value.map((x) => x.id)).toEqual(['a'])
  })

  it('a failed search leaves no choices and says why; the next one clears the error', async () => {
    const o = options()
    await o.search('a')
    fetch.mockRejectedValueOnce(new ApiError(0, 'network', 'x'))
    await o.search('b')
    expect(o.options.value).toEqual([])
    expect(o.error.value).toBe('无法连接服务器，请检查网络后重试')
    expect(o.loading.value).toBe(false)
    await o.search('a')
    expect(o.options.value).toHaveLength(1)
    expect(o.error.value).toBe('')
  })

  it('ignores the failure of a search that a later one replaced', async () => {
    const o = options()
    const slow = held()
    const a = o.search('a')
    await o.search('b')
    slow.fail(new ApiError(0, 'network', 'x'))
    await a
    expect(o.options.value.map((x) => x.id)).toEqual(['a'])
    expect(o.error.value).toBe('')
  })

  it('adds the picked ids the latest search did not return, by the name seen or remembered, else by id', async () => {
    const o = options()
    await o.search('a')
    fetch.mockResolvedValueOnce(page({ id: 'b', title: 'Beta' }))
    await o.search('b')
    o.remember('c', 'Gamma')
    o.remember('d', '')
    expect(o.withSelected(['a', 'b', 'c', 'd', '', 'e'])).toEqual([
      { id: 'b', name: 'Beta', known: true },
      { id: 'a', name: 'Alpha', known: false },
      { id: 'c', name: 'Gamma', known: false },
      { id: 'd', name: 'd', known: false },
      { id: 'e', name: 'e', known: false },
    ])
  })
})
