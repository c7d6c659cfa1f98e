// What the segment rule editor's nested groups and conditions share: the tree, its unfinished nodes, the node a
// server error names, whether it may be changed, and the choices the conditions pick from.
import type { ComputedRef, InjectionKey, Ref } from 'vue'
import type { EditorGroup, NodeIssue } from '@/composables/segment-rule'
import type { useSegmentChoices } from '@/composables/use-segments'

export interface SegmentRuleContext {
  root: Ref<EditorGroup>
  issues: ComputedRef<Map<number, NodeIssue>>
  /** the node the server refused the rule for (null: none) */
  badKey: ComputedRef<number | null>
  readOnly: ComputedRef<boolean>
  choices: ReturnType<typeof useSegmentChoices>
}

export const SEGMENT_RULE_CONTEXT: InjectionKey<SegmentRuleContext> = Symbol('segment-rule')
