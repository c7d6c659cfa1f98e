import { describe, expect, it } from 'vitest'
import type { SegmentsApi } from '@/api/segments'
import {
  addCondition, addGroup, canAddCondition, canAddGroup, completeRule, conditionIssue, countNodes, emptyRule, findNode, fromRule,
  newCondition, newGroup, nodeAtPath, removeNode, RULE_MAX_CHILDREN, RULE_MAX_DEPTH, ruleIssues, ruleKey, rulePathOf, setField,
  setValueField, toRule, type EditorCondition, type EditorGroup, type SegmentField,
} from './segment-rule'

function cond(field: SegmentField, over: Partial<EditorCondition> = {}): EditorCondition {
  return Object.assign(newCondition(field), over)
}

describe('editing the tree', () => {
  it('adds conditions and groups, a new group joining with the other operator and holding one condition', () => {
    const root = emptyRule()
    const c = addCondition(root, root, 'gender')!
    expect(c.field).toBe('gender')
    const g = addGroup(root, root)!
    expect(g.op).toBe('or')
    expect(g.children).toHaveLength(1)
    expect(g.children[0].kind).toBe('condition')
    const inner = addGroup(root, g)!
    expect(inner.op).toBe('and')
    expect(root.children.map((n) => n.kind)).toEqual(['condition', 'group'])
    expect(countNodes(root)).toBe(6)
    expect(findNode(root, inner.children[0].key)?.depth).toBe(3)
    expect(findNode(root, inner.key)?.parent).toBe(g)
  })

  it('removes any node but the root', () => {
    const root = emptyRule()
    const g = addGroup(root, root)!
    const c = addCondition(root, g, 'stage')!
    expect(removeNode(root, c.key)).toBe(true)
    expect(g.children).toHaveLength(1)
    expect(removeNode(root, g.key)).toBe(true)
    expect(root.children).toEqual([])
    expect(removeNode(root, root.key)).toBe(false)
    expect(removeNode(root, 99_999)).toBe(false)
  })

  it('keeps within the server limits: 50 children, 6 levels of groups', () => {
    const root = emptyRule()
    for (let i = 0; i < RULE_MAX_CHILDREN; i++) expect(addCondition(root, root)).not.toBeNull()
    expect(canAddCondition(root, root)).toBe(false)
    expect(addCondition(root, root)).toBeNull()
    expect(addGroup(root, root)).toBeNull()

    const deep = emptyRule()
    let g: EditorGroup = deep
    for (let depth = 1; depth < RULE_MAX_DEPTH; depth++) g = addGroup(deep, g)!
    expect(findNode(deep, g.key)?.depth).toBe(RULE_MAX_DEPTH - 1)
    expect(canAddGroup(deep, g, RULE_MAX_DEPTH - 1)).toBe(false)
    expect(addGroup(deep, g)).toBeNull()
    // conditions still fit at the deepest level
    expect(addCondition(deep, g)).not.toBeNull()
  })

  it('a new field clears the values but keeps the negation and the node', () => {
    const c = cond('corp_tag', { not: true, texts: ['et1'], match: 'all' })
    const key = c.key
    setField(c, 'stage')
    expect(c).toMatchObject({ key, field: 'stage', not: true, texts: [], numbers: [], match: 'any' })
  })

  it("another custom field keeps a range of its kind and clears one of the other kind", () => {
    const c = cond('custom_value')
    setValueField(c, 21, 'number')
    Object.assign(c, { min: 10, max: 99.5 })
    setValueField(c, 23, 'number')
    expect(c).toMatchObject({ fieldId: 23, valueKind: 'number', min: 10, max: 99.5 })
    setValueField(c, 22, 'date')
    expect(c).toMatchObject({ fieldId: 22, valueKind: 'date', min: null, max: null, from: '', to: '' })
  })
})

describe('completeness', () => {
  it('a condition needs its values', () => {
    expect(conditionIssue(cond('corp_tag'))).toBe('noValues')
    expect(conditionIssue(cond('corp_tag', { texts: ['et1'] }))).toBeNull()
    expect(conditionIssue(cond('stage', { numbers: [0] }))).toBeNull()
    expect(conditionIssue(cond('personal_tag', { texts: ['x'] }))).toBe('noValues')
    expect(conditionIssue(cond('channel_state', { texts: Array.from({ length: 501 }, (_, i) => `s${i}`) }))).toBe('tooManyValues')
    expect(conditionIssue(cond('status'))).toBeNull()
  })

  it('an add-time condition needs a day or a number of days from 1 to 3660, the first day not after the last', () => {
    expect(conditionIssue(cond('added'))).toBeNull() // within the last 30 days, as a new condition says
    expect(conditionIssue(cond('added', { withinDays: null }))).toBe('badWithinDays')
    expect(conditionIssue(cond('added', { withinDays: 0 }))).toBe('badWithinDays')
    expect(conditionIssue(cond('added', { withinDays: 3661 }))).toBe('badWithinDays')
    expect(conditionIssue(cond('added', { withinDays: 3660 }))).toBeNull()
    expect(conditionIssue(cond('added', { addedMode: 'range' }))).toBe('noDays')
    expect(conditionIssue(cond('added', { addedMode: 'range', from: '2026-01-05' }))).toBeNull()
    expect(conditionIssue(cond('added', { addedMode: 'range', to: '2026-01-05' }))).toBeNull()
    expect(conditionIssue(cond('added', { addedMode: 'range', from: '2026-01-05', to: '2026-01-04' }))).toBe('daysReversed')
    expect(conditionIssue(cond('added', { addedMode: 'range', from: '2026-01-05', to: '2026-01-05' }))).toBeNull()
  })

  it('a custom value condition needs its field and one end of a range the server takes', () => {
    const number = (over: Partial<EditorCondition>) => cond('custom_value', { fieldId: 21, valueKind: 'number', ...over })
    const date = (over: Partial<EditorCondition>) => cond('custom_value', { fieldId: 22, valueKind: 'date', ...over })
    expect(conditionIssue(cond('custom_value'))).toBe('noValueField')
    expect(conditionIssue(cond('custom_value', { min: 1 }))).toBe('noValueField')
    expect(conditionIssue(number({}))).toBe('noBounds')
    expect(conditionIssue(number({ min: 10 }))).toBeNull()
    expect(conditionIssue(number({ max: -1 }))).toBeNull()
    expect(conditionIssue(number({ min: 0, max: 0 }))).toBeNull()
    expect(conditionIssue(number({ min: 100, max: 99.5 }))).toBe('minAboveMax')
    expect(conditionIssue(number({ max: 1e16 }))).toBe('badNumber')
    expect(conditionIssue(number({ min: -1e15 }))).toBeNull()
    // the from / to of a date field, not its min / max
    expect(conditionIssue(date({ min: 1 }))).toBe('noDays')
    expect(conditionIssue(date({ from: '1990-01-01' }))).toBeNull()
    expect(conditionIssue(date({ to: '1999-12-31' }))).toBeNull()
    expect(conditionIssue(date({ from: '1999-12-31', to: '1990-01-01' }))).toBe('daysReversed')
    expect(conditionIssue(date({ from: '1899-12-31' }))).toBe('badDay')
    expect(conditionIssue(date({ to: '1990-02-30' }))).toBe('badDay')
    expect(conditionIssue(date({ to: '2200-12-31' }))).toBeNull()
  })

  it('an empty root is everyone; an empty nested group is unfinished; nothing unfinished is sent', () => {
    const root = emptyRule()
    expect(ruleIssues(root).size).toBe(0)
    expect(completeRule(root)).toEqual({ op: 'and', children: [] })
    const g = addGroup(root, root)!
    const c = g.children[0] as EditorCondition
    expect(ruleIssues(root)).toEqual(new Map([[c.key, 'noValues']]))
    expect(completeRule(root)).toBeNull()
    removeNode(root, c.key)
    expect(ruleIssues(root)).toEqual(new Map([[g.key, 'emptyGroup']]))
    expect(completeRule(root)).toBeNull()
    addCondition(root, g, 'status')
    expect(completeRule(root)).toEqual({ op: 'and', children: [{ op: 'or', children: [{ field: 'status', value: 'active' }] }] })
  })
})

describe('the API form', () => {
  it('sends each field in its own shape, `not` only when set', () => {
    const root = newGroup('and', [
      cond('corp_tag', { texts: ['et1', 'et2'], match: 'all' }),
      cond('personal_tag', { numbers: [4], match: 'none', not: true }),
      cond('employee', { texts: ['zhangsan'] }),
      cond('department', { numbers: [2] }),
      cond('added', { withinDays: 7 }),
      cond('added', { addedMode: 'range', from: '2026-01-01' }),
      cond('added', { addedMode: 'range', from: '2026-01-01', to: '2026-01-31' }),
      cond('add_way', { numbers: [1, 202] }),
      cond('channel_state', { texts: ['spring'] }),
      cond('gender', { numbers: [2] }),
      cond('stage', { numbers: [3, 0] }),
      cond('group', { texts: ['wr1'] }),
      cond('status', { status: 'lost' }),
      cond('custom_value', { fieldId: 21, valueKind: 'number', min: 10, max: 99.5 }),
      cond('custom_value', { fieldId: 21, valueKind: 'number', max: 5, not: true }),
      cond('custom_value', { fieldId: 22, valueKind: 'date', from: '1990-01-01', to: '1999-12-31' }),
      // what the other kind would take is not sent
      cond('custom_value', { fieldId: 22, valueKind: 'date', to: '1999-12-31', min: 3 }),
      Object.assign(newGroup('or', [cond('gender', { numbers: [0] })]), { not: true }),
    ])
    expect(toRule(root)).toEqual({
      op: 'and',
      children: [
        { field: 'corp_tag', match: 'all', values: ['et1', 'et2'] },
        { field: 'personal_tag', match: 'none', values: [4], not: true },
        { field: 'employee', values: ['zhangsan'] },
        { field: 'department', values: [2] },
        { field: 'added', within_days: 7 },
        { field: 'added', from: '2026-01-01' },
        { field: 'added', from: '2026-01-01', to: '2026-01-31' },
        { field: 'add_way', values: [1, 202] },
        { field: 'channel_state', values: ['spring'] },
        { field: 'gender', values: [2] },
        { field: 'stage', values: [3, 0] },
        { field: 'group', values: ['wr1'] },
        { field: 'status', value: 'lost' },
        { field: 'custom_value', field_id: 21, min: 10, max: 99.5 },
        { field: 'custom_value', field_id: 21, max: 5, not: true },
        { field: 'custom_value', field_id: 22, from: '1990-01-01', to: '1999-12-31' },
        { field: 'custom_value', field_id: 22, to: '1999-12-31' },
        { op: 'or', not: true, children: [{ field: 'gender', values: [0] }] },
      ],
    })
  })

  it('reads a saved rule back into the same tree', () => {
    const saved: SegmentsApi.Rule = {
      op: 'or',
      not: true,
      children: [
        { field: 'corp_tag', match: 'any', values: ['et1'] },
        { field: 'added', from: '2026-02-01', to: '2026-02-28' },
        { field: 'added', within_days: 90, not: true },
        { op: 'and', children: [{ field: 'stage', values: [0] }, { field: 'status', value: 'lost' }] },
        { field: 'custom_value', field_id: 21, min: 10, max: 99.5, not: true },
        { field: 'custom_value', field_id: 21, min: -3 },
        { field: 'custom_value', field_id: 22, from: '1990-01-01' },
        { field: 'custom_value', field_id: 22, from: '1990-01-01', to: '1999-12-31' },
      ],
    }
    const root = fromRule(saved)
    expect(root.children[4]).toMatchObject({ field: 'custom_value', fieldId: 21, valueKind: 'number', min: 10, max: 99.5, not: true })
    expect(root.children[5]).toMatchObject({ fieldId: 21, valueKind: 'number', min: -3, max: null })
    expect(root.children[6]).toMatchObject({ fieldId: 22, valueKind: 'date', from: '1990-01-01', to: '' })
    expect(ruleIssues(root).size).toBe(0)
    expect(root.op).toBe('or')
    expect(root.not).toBe(true)
    expect((root.children[1] as EditorCondition).addedMode).toBe('range')
    expect((root.children[2] as EditorCondition).addedMode).toBe('within')
    expect(toRule(root)).toEqual(saved)
    expect(ruleKey(fromRule(saved))).toBe(ruleKey(root))
  })

  it('makes a rule that is one condition a group of it, and nothing an empty rule', () => {
    const root = fromRule({ field: 'gender', values: [1], not: true })
    expect(toRule(root)).toEqual({ op: 'and', children: [{ field: 'gender', values: [1], not: true }] })
    expect(toRule(fromRule(null))).toEqual({ op: 'and', children: [] })
  })

  it('shows a field it does not know as an unfinished condition', () => {
    const root = fromRule({ op: 'and', children: [{ field: 'mood', values: ['happy'] } as unknown as SegmentsApi.Rule] })
    expect(ruleIssues(root).get(root.children[0].key)).toBe('noValues')
  })

  it('finds the node a server error names', () => {
    const root = fromRule({
      op: 'and',
      children: [
        { field: 'gender', values: [1] },
        { op: 'or', children: [{ field: 'stage', values: [9] }, { field: 'corp_tag', values: ['gone'] }] },
      ],
    })
    const inner = root.children[1] as EditorGroup
    expect(rulePathOf('rule.children[1].children[1].values[0]: no such corp tag')).toBe('rule.children[1].children[1].values[0]')
    expect(nodeAtPath(root, 'rule.children[1].children[1].values[0]')).toBe(inner.children[1].key)
    expect(nodeAtPath(root, 'rule.children[1].op')).toBe(inner.key)
    expect(nodeAtPath(root, 'rule.children[0]')).toBe(root.children[0].key)
    expect(nodeAtPath(root, 'rule')).toBe(root.key)
    expect(nodeAtPath(root, 'rule.children[5]')).toBeNull()
    expect(nodeAtPath(root, 'rule.children[0].children[0]')).toBeNull()
    expect(rulePathOf('is not valid JSON')).toBe('')
    expect(rulePathOf('rule: is not valid JSON')).toBe('rule')
  })
})
