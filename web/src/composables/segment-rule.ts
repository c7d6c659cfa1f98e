// The segment rule (客户分群规则) as the editor holds it, and as the API takes it (api/openapi.yaml, SegmentRule):
// the tree's edits, the conversion both ways, and the checks the server would make on its shape
// (src/domain/segments/rule.cc), so that an unfinished rule is never sent.
import type { SegmentsApi } from '@/api/segments'

/** The fields a condition can test, in the order the field select lists them. */
export const SEGMENT_FIELDS = [
  'corp_tag', 'personal_tag', 'custom_field', 'custom_value', 'employee', 'department', 'added', 'add_way', 'channel_state', 'gender', 'stage',
  'group', 'status',
] as const
export type SegmentField = (typeof SEGMENT_FIELDS)[number]

/**
 * How a field's values are edited and sent: a list of strings, a list of numbers, a day range, one status, or a range
 * of a custom field's value.
 */
export type ValueKind = 'texts' | 'numbers' | 'added' | 'status' | 'range'
export const FIELD_KIND: Record<SegmentField, ValueKind> = {
  corp_tag: 'texts', personal_tag: 'numbers', custom_field: 'numbers', custom_value: 'range', employee: 'texts', department: 'numbers',
  added: 'added', add_way: 'numbers', channel_state: 'texts', gender: 'numbers', stage: 'numbers', group: 'texts', status: 'status',
}
/** Fields whose values are tags (or custom field options), matched any / all / none. */
export const MATCH_FIELDS: readonly SegmentField[] = ['corp_tag', 'personal_tag', 'custom_field']
export const TAG_MATCHES: readonly SegmentsApi.TagMatch[] = ['any', 'all', 'none']

// The server's limits (src/domain/segments/rule.h).
export const RULE_MAX_CHILDREN = 50
/** groups nest at most this deep, the root being the first */
export const RULE_MAX_DEPTH = 6
export const RULE_MAX_NODES = 300
export const RULE_MAX_VALUES = 500
export const WITHIN_DAYS_MAX = 3660
/** the largest magnitude of a custom_value bound (a number field holds at most 15 digits) */
export const CUSTOM_NUMBER_MAX = 1e15
/** the years a custom_value date range may name */
export const CUSTOM_YEAR_MIN = 1900
export const CUSTOM_YEAR_MAX = 2200

export type GroupOp = 'and' | 'or'
export type AddedMode = 'within' | 'range'
export type CustomerStatus = 'active' | 'lost'
/** what a custom_value condition's field holds: numbers (min / max) or dates (from / to) */
export type ValueFieldKind = 'number' | 'date'

export interface EditorGroup {
  kind: 'group'
  /** identifies the node while it is edited (never sent) */
  key: number
  op: GroupOp
  not: boolean
  children: EditorNode[]
}

/** A condition holds a slot for every kind of value; its field says which one counts. */
export interface EditorCondition {
  kind: 'condition'
  key: number
  field: SegmentField
  not: boolean
  /** tag fields and custom_field */
  match: SegmentsApi.TagMatch
  /** corp_tag, employee, channel_state, group */
  texts: string[]
  /** personal_tag, custom_field (option ids), department, add_way, gender, stage (0: in no stage) */
  numbers: number[]
  /** added: within the last N days, or from / to (YYYY-MM-DD, '' for open; custom_value of a date field too) */
  addedMode: AddedMode
  withinDays: number | null
  from: string
  to: string
  /** status */
  status: CustomerStatus
  /** custom_value: the number or date custom field (null: none picked yet) and what it holds */
  fieldId: number | null
  valueKind: ValueFieldKind
  /** custom_value of a number field: the least and the greatest value (null for open) */
  min: number | null
  max: number | null
}

export type EditorNode = EditorGroup | EditorCondition

let lastKey = 0
const nextKey = () => ++lastKey

export function newCondition(field: SegmentField = 'corp_tag'): EditorCondition {
  return {
    kind: 'condition', key: nextKey(), field, not: false, match: 'any', texts: [], numbers: [], addedMode: 'within', withinDays: 30,
    from: '', to: '', status: 'active', fieldId: null, valueKind: 'number', min: null, max: null,
  }
}

export function newGroup(op: GroupOp = 'and', children: EditorNode[] = []): EditorGroup {
  return { kind: 'group', key: nextKey(), op, not: false, children }
}

/** A new segment's rule: an empty AND, which matches every customer. */
export const emptyRule = (): EditorGroup => newGroup('and')

/** Gives a condition another field; its values are cleared (they meant something else), its `not` stays. */
export function setField(c: EditorCondition, field: SegmentField): void {
  const fresh = newCondition(field)
  Object.assign(c, { ...fresh, key: c.key, not: c.not })
}

/**
 * Gives a custom_value condition another custom field, of kind `kind`; a range of the other kind is cleared (numbers
 * mean nothing to a date field), one of the same kind stays.
 */
export function setValueField(c: EditorCondition, fieldId: number, kind: ValueFieldKind): void {
  if (kind !== c.valueKind) Object.assign(c, { min: null, max: null, from: '', to: '' })
  c.fieldId = fieldId
  c.valueKind = kind
}

// ----- walking the tree ----------------------------------------------------------------------------------------

export function countNodes(node: EditorNode): number {
  return node.kind === 'group' ? 1 + node.children.reduce((n, c) => n + countNodes(c), 0) : 1
}

/** The node with this key and its parent group (null for the root), or null when it is not in the tree. */
export function findNode(root: EditorGroup, key: number): { node: EditorNode; parent: EditorGroup | null; depth: number } | null {
  const walk = (node: EditorNode, parent: EditorGroup | null, depth: number): ReturnType<typeof findNode> => {
    if (node.key === key) return { node, parent, depth }
    if (node.kind === 'condition') return null
    for (const c of node.children) {
      const found = walk(c, node, depth + 1)
      if (found) return found
    }
    return null
  }
  return walk(root, null, 0)
}

/** Whether a condition can be added to `group` (a group holds at most 50, a rule at most 300 nodes). */
export function canAddCondition(root: EditorGroup, group: EditorGroup): boolean {
  return group.children.length < RULE_MAX_CHILDREN && countNodes(root) < RULE_MAX_NODES
}

/** Whether a group (which comes with its first condition) can be added to `group`, at `depth` (the root's is 0). */
export function canAddGroup(root: EditorGroup, group: EditorGroup, depth: number): boolean {
  return depth + 1 < RULE_MAX_DEPTH && group.children.length < RULE_MAX_CHILDREN && countNodes(root) + 2 <= RULE_MAX_NODES
}

/** Adds a condition at the end of `group`; the condition, or null at a limit. */
export function addCondition(root: EditorGroup, group: EditorGroup, field: SegmentField = 'corp_tag'): EditorCondition | null {
  if (!canAddCondition(root, group)) return null
  const c = newCondition(field)
  group.children.push(c)
  return c
}

/**
 * Adds a group at the end of `group`, joining with the other operator than `group`'s (a group of the same operator
 * would change nothing), with one condition to fill in; the new group, or null at a limit.
 */
export function addGroup(root: EditorGroup, group: EditorGroup): EditorGroup | null {
  const found = findNode(root, group.key)
  if (!found || !canAddGroup(root, group, found.depth)) return null
  const g = newGroup(group.op === 'and' ? 'or' : 'and', [newCondition()])
  group.children.push(g)
  return g
}

/** Removes a node (not the root) wherever it is; whether it was there. */
export function removeNode(root: EditorGroup, key: number): boolean {
  const found = findNode(root, key)
  if (!found?.parent) return false
  const siblings = found.parent.children
  siblings.splice(siblings.indexOf(found.node), 1)
  return true
}

/**
 * The key of the node a server path names ("rule.children[1].values[0]" names the second child of the root), the
 * deepest node the path reaches; null when the path does not fit the tree.
 */
export function nodeAtPath(root: EditorGroup, path: string): number | null {
  if (!path.startsWith('rule')) return null
  let node: EditorNode = root
  for (const m of path.slice(4).matchAll(/\.children\[(\d+)\]|\.[a-z_]+(?:\[\d+\])?/g)) {
    if (!m[1]) break
    if (node.kind !== 'group') return null
    const child: EditorNode | undefined = node.children[Number(m[1])]
    if (!child) return null
    node = child
  }
  return node.key
}

/** The path at the start of an invalid_segment_rule message ("rule.children[1].values[0]: no such corp tag"), or ''. */
export function rulePathOf(message: string): string {
  const m = /^(rule(?:\.[a-z_]+|\[\d+\])*)\s*:/.exec(message)
  return m ? m[1] : ''
}

// ----- completeness ----------------------------------------------------------------------------------------------

/** Why a node cannot be sent yet. */
export type NodeIssue =
  | 'noValues' | 'tooManyValues' | 'noDays' | 'badWithinDays' | 'daysReversed' | 'emptyGroup'
  | 'noValueField' | 'noBounds' | 'badNumber' | 'minAboveMax' | 'badDay'

const DAY = /^\d{4}-\d{2}-\d{2}$/

/** Whether a custom_value bound is a number the server takes (at most 15 digits). */
const isBound = (n: number) => Number.isFinite(n) && Math.abs(n) <= CUSTOM_NUMBER_MAX
/** Whether "YYYY-MM-DD" is a day the server takes in a custom_value range (a real day, 1900–2200). */
function isRangeDay(day: string): boolean {
  if (!DAY.test(day)) return false
  const [y, m, d] = day.split('-').map(Number)
  if (y < CUSTOM_YEAR_MIN || y > CUSTOM_YEAR_MAX || m < 1 || m > 12 || d < 1) return false
  return d <= new Date(Date.UTC(y, m, 0)).getUTCDate()
}

function valueRangeIssue(c: EditorCondition): NodeIssue | null {
  if (c.fieldId === null) return 'noValueField'
  if (c.valueKind === 'number') {
    if (c.min === null && c.max === null) return 'noBounds'
    if ((c.min !== null && !isBound(c.min)) || (c.max !== null && !isBound(c.max))) return 'badNumber'
    return c.min !== null && c.max !== null && c.min > c.max ? 'minAboveMax' : null
  }
  if (!c.from && !c.to) return 'noDays'
  if ((c.from && !isRangeDay(c.from)) || (c.to && !isRangeDay(c.to))) return 'badDay'
  return c.from && c.to && c.from > c.to ? 'daysReversed' : null
}

export function conditionIssue(c: EditorCondition): NodeIssue | null {
  switch (FIELD_KIND[c.field]) {
    case 'texts':
    case 'numbers': {
      const n = FIELD_KIND[c.field] === 'texts' ? c.texts.length : c.numbers.length
      if (n === 0) return 'noValues'
      return n > RULE_MAX_VALUES ? 'tooManyValues' : null
    }
    case 'added': {
      if (c.addedMode === 'within') {
        const n = c.withinDays
        return n !== null && Number.isInteger(n) && n >= 1 && n <= WITHIN_DAYS_MAX ? null : 'badWithinDays'
      }
      const from = DAY.test(c.from) ? c.from : ''
      const to = DAY.test(c.to) ? c.to : ''
      if (!from && !to) return 'noDays'
      return from && to && from > to ? 'daysReversed' : null
    }
    case 'status':
      return null
    case 'range':
      return valueRangeIssue(c)
  }
}

/** Every node that cannot be sent yet, by key (a nested group needs a child; the root may be empty: everyone). */
export function ruleIssues(root: EditorGroup): Map<number, NodeIssue> {
  const out = new Map<number, NodeIssue>()
  const walk = (node: EditorNode, depth: number) => {
    if (node.kind === 'condition') {
      const issue = conditionIssue(node)
      if (issue) out.set(node.key, issue)
      return
    }
    if (depth > 0 && node.children.length === 0) out.set(node.key, 'emptyGroup')
    node.children.forEach((c) => walk(c, depth + 1))
  }
  walk(root, 0)
  return out
}

// ----- to and from the API -----------------------------------------------------------------------------------------

function conditionToRule(c: EditorCondition): SegmentsApi.Rule {
  const not = c.not ? { not: true } : {}
  switch (c.field) {
    case 'corp_tag':
      return { field: c.field, match: c.match, values: [...c.texts], ...not }
    case 'personal_tag':
    case 'custom_field':
      return { field: c.field, match: c.match, values: [...c.numbers], ...not }
    case 'employee':
    case 'channel_state':
    case 'group':
      return { field: c.field, values: [...c.texts], ...not }
    case 'department':
    case 'add_way':
    case 'gender':
    case 'stage':
      return { field: c.field, values: [...c.numbers], ...not }
    case 'added':
      if (c.addedMode === 'within') return { field: c.field, within_days: c.withinDays ?? 0, ...not }
      return { field: c.field, ...(c.from ? { from: c.from } : {}), ...(c.to ? { to: c.to } : {}), ...not }
    case 'status':
      return { field: c.field, value: c.status, ...not }
    case 'custom_value': {
      const range = c.valueKind === 'number'
        ? { ...(c.min !== null ? { min: c.min } : {}), ...(c.max !== null ? { max: c.max } : {}) }
        : { ...(c.from ? { from: c.from } : {}), ...(c.to ? { to: c.to } : {}) }
      return { field: c.field, field_id: c.fieldId ?? 0, ...range, ...not }
    }
  }
}

/** The API's JSON of a node, as it is (see completeRule for one that may be sent). */
export function toRule(node: EditorNode): SegmentsApi.Rule {
  if (node.kind === 'condition') return conditionToRule(node)
  return { op: node.op, children: node.children.map(toRule), ...(node.not ? { not: true } : {}) }
}

/** The rule to send, or null while some node is unfinished (ruleIssues says which). */
export function completeRule(root: EditorGroup): SegmentsApi.Rule | null {
  return ruleIssues(root).size ? null : toRule(root)
}

const isGroup = (r: SegmentsApi.Rule): r is SegmentsApi.Group => 'op' in r
const isField = (f: unknown): f is SegmentField => (SEGMENT_FIELDS as readonly unknown[]).includes(f)

function conditionFromRule(r: Exclude<SegmentsApi.Rule, SegmentsApi.Group>): EditorCondition {
  // A field this console does not know is shown as an unfinished condition rather than dropped unseen.
  const c = newCondition(isField(r.field) ? r.field : 'corp_tag')
  c.not = r.not === true
  if (!isField(r.field)) return c
  if ('match' in r && r.match) c.match = r.match
  if ('values' in r && Array.isArray(r.values)) {
    if (FIELD_KIND[c.field] === 'texts') c.texts = (r.values as unknown[]).map(String)
    else c.numbers = (r.values as unknown[]).map(Number).filter((n) => Number.isFinite(n))
  }
  if (r.field === 'added') {
    if (r.within_days !== undefined) {
      c.addedMode = 'within'
      c.withinDays = r.within_days
    } else {
      c.addedMode = 'range'
      c.withinDays = null
      c.from = r.from ?? ''
      c.to = r.to ?? ''
    }
  }
  if (r.field === 'status') c.status = r.value === 'lost' ? 'lost' : 'active'
  if (r.field === 'custom_value') {
    c.fieldId = typeof r.field_id === 'number' && r.field_id > 0 ? r.field_id : null
    // The server keeps a number range as min / max and a date range as from / to: which it is says the field's kind.
    const dates = r.from !== undefined || r.to !== undefined
    c.valueKind = dates ? 'date' : 'number'
    const bound = (n: unknown) => (typeof n === 'number' && Number.isFinite(n) ? n : null)
    c.min = dates ? null : bound(r.min)
    c.max = dates ? null : bound(r.max)
    c.from = dates && typeof r.from === 'string' ? r.from : ''
    c.to = dates && typeof r.to === 'string' ? r.to : ''
  }
  return c
}

function nodeFromRule(r: SegmentsApi.Rule): EditorNode {
  if (!isGroup(r)) return conditionFromRule(r)
  const g = newGroup(r.op === 'or' ? 'or' : 'and', (r.children ?? []).map(nodeFromRule))
  g.not = r.not === true
  return g
}

/** The editor's tree of a saved rule; a rule that is one condition becomes a group of it (the same customers). */
export function fromRule(rule: SegmentsApi.Rule | null | undefined): EditorGroup {
  if (!rule || typeof rule !== 'object') return emptyRule()
  const node = nodeFromRule(rule)
  return node.kind === 'group' ? node : newGroup('and', [node])
}

/** A stable text of a tree (keys left out), to tell whether it changed. */
export const ruleKey = (root: EditorGroup): string => JSON.stringify(toRule(root))
