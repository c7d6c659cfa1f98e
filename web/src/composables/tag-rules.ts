// The rules of tags as the server checks them (src/domain/customers/tags.cc, the rule pack's limits), so that the
// console can refuse a name before asking, and the add/remove diff the tagging routes take.
import type { CustomersApi } from '@/api/customers'

/** The longest tag or tag group name, in characters (Unicode code points, as the server counts). */
export const TAG_NAME_MAX = 30
/** WeCom's limit of enterprise tags in one corp. */
export const CORP_TAGS_MAX = 3000
/** The most names (or ids) one call may carry. */
export const TAGS_PER_CALL_MAX = 100
/** The most personal tags one account may have. */
export const PERSONAL_TAGS_MAX = 500

export type TagReason =
  | 'tag_name_empty'
  | 'tag_name_too_long'
  | 'tag_name_duplicate'
  | 'too_many_tags'
  | 'corp_tag_limit'
  | 'personal_tag_exists'
  | 'personal_tag_limit'

/** Why the server would refuse a submission; `name` is the name at fault, when one is. */
export interface TagProblem {
  reason: TagReason
  name?: string
}

/** The name as the server stores it: without the ASCII whitespace around it. */
export function trimTagName(name: string): string {
  return name.replace(/^[ \t\r\n\f\v]+|[ \t\r\n\f\v]+$/g, '')
}

/** Characters as the server counts them (code points: an emoji is one). */
function chars(text: string): number {
  let n = 0
  for (const _ of text) n++
  return n
}

/** The names typed one per line (commas are part of a name), trimmed; blank lines are left out. */
export function splitTagNames(text: string): string[] {
  return text.split(/\r?\n|\r/).map(trimTagName).filter((n) => n !== '')
}

/** The problem with one tag or group name, or null when the server would take it. */
export function tagNameProblem(raw: string): TagProblem | null {
  const name = trimTagName(raw)
  if (!name) return { reason: 'tag_name_empty' }
  if (chars(name) > TAG_NAME_MAX) return { reason: 'tag_name_too_long', name }
  return null
}

/** The problem with the names of one submission (1–100 names, each fine, none twice), or null. */
export function tagNamesProblem(raw: readonly string[]): TagProblem | null {
  const names = raw.map(trimTagName)
  if (!names.length) return { reason: 'tag_name_empty' }
  if (names.length > TAGS_PER_CALL_MAX) return { reason: 'too_many_tags' }
  const seen = new Set<string>()
  for (const name of names) {
    const problem = tagNameProblem(name)
    if (problem) return problem
    if (seen.has(name)) return { reason: 'tag_name_duplicate', name }
    seen.add(name)
  }
  return null
}

/** The enterprise tags of the corp (all groups). */
export function corpTagCount(groups: readonly CustomersApi.TagGroup[]): number {
  return groups.reduce((n, g) => n + g.tags.length, 0)
}

/** How many of `names` the group lacks: WeCom keeps a name already in the group rather than adding it twice. */
export function freshTagCount(group: CustomersApi.TagGroup | undefined, names: readonly string[]): number {
  const have = new Set(group?.tags.map((t) => t.name) ?? [])
  return new Set(names.filter((n) => !have.has(n))).size
}

/** What to add and what to remove to go from `before` to `after` (each value once, in the order given). */
export function tagDiff<T>(before: readonly T[], after: readonly T[]): { add: T[]; remove: T[] } {
  const was = new Set(before)
  const now = new Set(after)
  return { add: [...now].filter((x) => !was.has(x)), remove: [...was].filter((x) => !now.has(x)) }
}

/** Whether the diff changes nothing. */
export function noChange(diff: { add: readonly unknown[]; remove: readonly unknown[] }): boolean {
  return diff.add.length === 0 && diff.remove.length === 0
}
