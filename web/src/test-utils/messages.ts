// Test data for the mass messages' tests.
import type { MessagesApi } from '@/api/messages'

/** A draft enterprise message `id` to segment 3 (10 targeted, 8 recipients, 2 skipped as no longer friends), with `over`. */
export function testMessage(id: number, over: Partial<MessagesApi.Message> = {}): MessagesApi.Message {
  return {
    id, kind: 'enterprise', audience: 'customers', title: `群发${id}`, content: { text: '您好', attachments: [] }, target: { segment_id: 3 }, state: 'draft',
    rule_pack: 'wecom-2025', send_at: 1_700_000_000_000, created_by: 7, created_by_name: '王小锦', created_at: 1_700_000_000_000,
    updated_at: 1_700_000_000_000, submitted_at: null, settled_at: null, cancelled_at: null, error: '', targeted: 10, recipients: 8,
    skipped: { not_friend: 2 }, personalised: false, templates: 0, chunks_submitted: 0, chunks_failed: 0, sent: 0, not_friend: 0,
    over_limit: 0, failed: 0, pending: 8, reminders_left: 3, senders: [], delivery: [], ...over,
  }
}
