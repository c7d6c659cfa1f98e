import type { components } from './generated/schema'
import { requestClient } from './request'

export namespace FieldsApi {
  export type Kind = components['schemas']['CustomFieldKind']
  export type Field = components['schemas']['CustomField']
  export type Option = components['schemas']['FieldOption']
  export type CreateRequest = components['schemas']['CreateCustomFieldRequest']
  export type UpdateRequest = components['schemas']['UpdateCustomFieldRequest']
  export type OptionEdit = components['schemas']['FieldOptionEdit']
  export type Value = components['schemas']['FieldValue']
  export type ValueEdit = components['schemas']['FieldValueEdit']
}

/** The team's custom fields (自定义字段) in their order; with `counts`, how many customers have a value of each (a scan: the fields page only). */
export function listCustomFieldsApi(options: { counts?: boolean } = {}) {
  return requestClient.get<{ items: FieldsApi.Field[] }>(
    `/api/v1/scrm/customer-fields${options.counts ? '?counts=true' : ''}`,
  )
}

/** Adds a field at the end (admin only); `options` for choice fields only. */
export function createCustomFieldApi(body: FieldsApi.CreateRequest) {
  return requestClient.post<FieldsApi.Field>('/api/v1/scrm/customer-fields', body)
}

/**
 * Renames a field and/or replaces a choice field's options (admin only): an option with an id keeps it, one without
 * is added, an existing option left out is removed from every customer. The field afterwards.
 */
export function updateCustomFieldApi(id: number, body: FieldsApi.UpdateRequest) {
  return requestClient.put<FieldsApi.Field>(`/api/v1/scrm/customer-fields/${id}`, body)
}

/** Deletes a field and every customer's value of it (admin only). */
export function deleteCustomFieldApi(id: number) {
  return requestClient.delete<{ id: number }>(`/api/v1/scrm/customer-fields/${id}`)
}

/** The new order of the fields: every field's id exactly once (admin only). */
export function reorderCustomFieldsApi(ids: number[]) {
  return requestClient.put<{ ids: number[] }>('/api/v1/scrm/customer-field-order', { ids })
}

/** Sets the listed fields of a customer ("" / [] clears one; the others stay); the customer's values afterwards. */
export function setCustomerFieldsApi(externalUserid: string, values: FieldsApi.ValueEdit[]) {
  return requestClient.put<{ fields: FieldsApi.Value[] }>(
    `/api/v1/scrm/customers/${encodeURIComponent(externalUserid)}/fields`,
    { values },
  )
}
