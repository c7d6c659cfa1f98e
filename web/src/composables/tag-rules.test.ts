import { describe, expect, it } from 'vitest'
import type { CustomersApi } from '@/api/customers'
import {
  CORP_TAGS_MAX, corpTagCount, freshTagCount, noChange, splitTagNames, TAG_NAME_MAX, tagDiff, tagNameProblem, tagNamesProblem,
  TAGS_PER_CALL_MAX, trimTagName,
} from './tag-rules'

const group = (id: string, name: string, tags: string[]): CustomersApi.TagGroup => ({
  group_id: id, name, tags: tags.map((t, i) => ({ tag_id: `${id}-${i}`, name: t, group_name: name })),
})

describe('tag names', () => {
  it('are trimmed of ASCII whitespace as the server trims them', () => {
    expect(trimTagName(' \t金卡\r\n\f\v')).toBe('金卡')
    expect(trimTagName('  ')).toBe('')
    // a full-width space is part of the name, as on the server
    expect(trimTagName('\u3000金卡')).toBe('\u3000金卡')
  })

  it('are typed one per line; blank lines do not count and commas belong to the name', () => {
    expect(splitTagNames('金卡\n\n  银卡 \r\n铜卡,新客\r')).toEqual(['金卡', '银卡', '铜卡,新客'])
    expect(splitTagNames(' \n \n')).toEqual([])
  })

  it('have 1–30 characters, counted as code points', () => {
    expect(tagNameProblem('  ')).toEqual({ reason: 'tag_name_empty' })
    expect(tagNameProblem('好'.repeat(TAG_NAME_MAX))).toBeNull()
    expect(tagNameProblem(` ${'好'.repeat(TAG_NAME_MAX)} `)).toBeNull()
    expect(tagNameProblem('好'.repeat(TAG_NAME_MAX + 1))).toEqual({ reason: 'tag_name_too_long', name: '好'.repeat(TAG_NAME_MAX + 1) })
    // 30 emoji are 60 UTF-16 units but 30 characters
    expect(tagNameProblem('😀'.repeat(TAG_NAME_MAX))).toBeNull()
  })

  it('one submission has 1–100 names, none twice (after trimming)', () => {
    expect(tagNamesProblem([])).toEqual({ reason: 'tag_name_empty' })
    expect(tagNamesProblem(['金卡', ' '])).toEqual({ reason: 'tag_name_empty' })
    expect(tagNamesProblem(['金卡', '金卡 '])).toEqual({ reason: 'tag_name_duplicate', name: '金卡' })
    expect(tagNamesProblem(Array.from({ length: TAGS_PER_CALL_MAX }, (_, i) => `t${i}`))).toBeNull()
    expect(tagNamesProblem(Array.from({ length: TAGS_PER_CALL_MAX + 1 }, (_, i) => `t${i}`))).toEqual({ reason: 'too_many_tags' })
    expect(tagNamesProblem(['金卡', 'x'.repeat(31)])).toEqual({ reason: 'tag_name_too_long', name: 'x'.repeat(31) })
  })
})

describe('the corp limit', () => {
  it('counts every tag of every group, and only new names count against it', () => {
    const groups = [group('g1', '等级', ['金卡', '银卡']), group('g2', '意向', ['高'])]
    expect(corpTagCount(groups)).toBe(3)
    expect(CORP_TAGS_MAX).toBe(3000)
    expect(freshTagCount(groups[0], ['金卡', '铜卡'])).toBe(1)
    expect(freshTagCount(undefined, ['金卡', '铜卡'])).toBe(2)
  })
})

describe('tagDiff', () => {
  it('adds what is new and removes what went, each once', () => {
    expect(tagDiff(['a', 'b', 'c'], ['c', 'd', 'a', 'd'])).toEqual({ add: ['d'], remove: ['b'] })
    expect(tagDiff([1, 2], [2, 1])).toEqual({ add: [], remove: [] })
    expect(noChange(tagDiff([1, 2], [2, 1]))).toBe(true)
    expect(noChange(tagDiff([], [3]))).toBe(false)
    expect(tagDiff([], ['x'])).toEqual({ add: ['x'], remove: [] })
  })
})
