import { describe, expect, it, vi } from 'vitest'
import { lastPage, usePagedList, type Page } from './use-paged-list'

const rows = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i)
const pageOf = (items: number[], total: number, page: number): Page<number> => ({ items, total, page, page_size: 10 })

describe('usePagedList', () => {
  it('an empty page past the end (rows removed elsewhere) is replaced by the last page', async () => {
    // 23 rows when page 4 was shown; another admin removed some: 15 are left, page 4 comes back empty.
    const fetchPage = vi.fn(async (p: number) => (p === 4 ? pageOf([], 15, 4) : pageOf(rows((p - 1) * 10, p === 2 ? 5 : 10), 15, p)))
    const list = usePagedList(fetchPage, 10)
    await list.load(4)
    expect(fetchPage.mock.calls.map((c) => c[0])).toEqual([4, 2])
    expect(list.page.value).toBe(2)
    expect(list.items.value).toEqual(rows(10, 5))
    expect(list.total.value).toBe(15)
    expect(list.loading.value).toBe(false)
  })

  it('goes back to page 1 when no rows are left, and does not reload an empty first page', async () => {
    const fetchPage = vi.fn(async (p: number) => pageOf([], 0, p))
    const list = usePagedList(fetchPage, 10)
    await list.load(3)
    expect(fetchPage.mock.calls.map((c) => c[0])).toEqual([3, 1])
    expect(list.page.value).toBe(1)
    expect(list.items.value).toEqual([])
  })

  it('lastPage', () => {
    expect(lastPage(0, 20)).toBe(1)
    expect(lastPage(20, 20)).toBe(1)
    expect(lastPage(21, 20)).toBe(2)
  })
})
