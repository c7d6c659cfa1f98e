import type { components } from './generated/schema'
import { apiUrl, query, requestClient } from './request'

export namespace MessagesApi {
  export type Kind = components['schemas']['MessageKind']
  export type Audience = components['schemas']['MessageAudience']
  export type State = components['schemas']['MessageState']
  export type SkipReason = components['schemas']['SkipReason']
  export type Attachment = components['schemas']['MessageAttachment']
  export type AttachmentType = Attachment['type']
  export type Content = components['schemas']['MessageContent']
  export type Target = components['schemas']['MessageTarget']
  export type Draft = components['schemas']['MessageDraft']
  export type Sender = components['schemas']['MessageSender']
  export type Delivery = components['schemas']['MessageDelivery']
  export type Message = components['schemas']['Message']
  export type Page = components['schemas']['MessagePage']
  export type PlanPreview = components['schemas']['MessagePlanPreview']
  export type Recipient = components['schemas']['Recipient']
  export type RecipientPage = components['schemas']['RecipientPage']
  export type CustomerMessage = components['schemas']['CustomerMessage']
  export type RulePackInfo = components['schemas']['RulePackInfo']
  export type RuleValue = components['schemas']['RuleValue']
  export type RulePackSetting = components['schemas']['RulePackSetting']
  export type RulePackRequest = components['schemas']['RulePackRequest']
  /** GET …/recipients's filters (without paging) */
  export interface RecipientQuery {
    /** 'any' every skipped customer, 'none' the recipients, or one reason; '' all */
    skip?: '' | 'any' | 'none' | SkipReason
    /** -1..5 (recipients only); null all */
    status?: number | null
    /** the sending employee; '' all */
    userid?: string
  }
}

/** The team's rule pack, its overrides and the mass-message values in force (every member may read it). */
export function getRulePackApi() {
  return requestClient.get<MessagesApi.RulePackSetting>('/api/v1/scrm/rule-pack')
}

/** Picks the pack and replaces every override (admin only). */
export function setRulePackApi(body: MessagesApi.RulePackRequest) {
  return requestClient.put<MessagesApi.RulePackSetting>('/api/v1/scrm/rule-pack', body)
}

/** One page of mass messages, newest first; `state` '' for every state. */
export function listMessagesApi(page: number, pageSize: number, state = '') {
  return requestClient.get<MessagesApi.Page>(`/api/v1/scrm/messages${query({ page, page_size: pageSize, state })}`)
}

/** One message with its plan, results, senders and hourly delivery. */
export function getMessageApi(id: number) {
  return requestClient.get<MessagesApi.Message>(`/api/v1/scrm/messages/${id}`)
}

/** Creates a draft and plans it. */
export function createMessageApi(body: MessagesApi.Draft) {
  return requestClient.post<MessagesApi.Message>('/api/v1/scrm/messages', body)
}

/** Plans a draft without saving it (the composer's live preview). */
export function previewMessagePlanApi(body: MessagesApi.Draft) {
  return requestClient.post<MessagesApi.PlanPreview>('/api/v1/scrm/messages/preview', body)
}

/** Replaces a draft (its whole body) and plans it again. */
export function updateMessageApi(id: number, body: MessagesApi.Draft) {
  return requestClient.put<MessagesApi.Message>(`/api/v1/scrm/messages/${id}`, body)
}

export function deleteMessageApi(id: number) {
  return requestClient.delete<{ deleted: boolean }>(`/api/v1/scrm/messages/${id}`)
}

/** Sends a draft now (`sendAt` null) or at `sendAt` (Unix ms). */
export function sendMessageApi(id: number, sendAt: number | null) {
  return requestClient.post<MessagesApi.Message>(`/api/v1/scrm/messages/${id}/send`, { send_at: sendAt })
}

export function cancelMessageApi(id: number) {
  return requestClient.post<MessagesApi.Message>(`/api/v1/scrm/messages/${id}/cancel`)
}

/** Reminds the employees who have not confirmed (≤ the pack's reminders per window). */
export function remindMessageApi(id: number) {
  return requestClient.post<MessagesApi.Message>(`/api/v1/scrm/messages/${id}/remind`)
}

/** Reads the results from WeCom now. */
export function refreshMessageApi(id: number) {
  return requestClient.post<MessagesApi.Message>(`/api/v1/scrm/messages/${id}/refresh`)
}

/** One page of the message's recipients and skipped customers. */
export function listRecipientsApi(id: number, page: number, pageSize: number, filter: MessagesApi.RecipientQuery = {}) {
  return requestClient.get<MessagesApi.RecipientPage>(
    `/api/v1/scrm/messages/${id}/recipients${query({
      page, page_size: pageSize, skip: filter.skip, status: filter.status, userid: filter.userid,
    })}`,
  )
}

/** The address of every recipient as CSV, for a download link (the browser sends the session cookie). */
export function recipientsCsvUrl(id: number): string {
  return apiUrl(`/api/v1/scrm/messages/${id}/recipients.csv`)
}

/** The mass messages a customer received or will receive (newest first, at most 50). */
export function listCustomerMessagesApi(externalUserid: string) {
  return requestClient.get<{ items: MessagesApi.CustomerMessage[] }>(
    `/api/v1/scrm/customers/${encodeURIComponent(externalUserid)}/messages`,
  )
}
