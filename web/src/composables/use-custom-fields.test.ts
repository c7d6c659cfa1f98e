import { describe, expect, it } from 'vitest'
import type { FieldsApi } from '@/api/fields'
import { fieldChange, fieldFormProblem, fieldValueProblem, fieldValueText, isFieldDate } from './use-custom-fields'

const field = (id: number, name: string): Pick<FieldsApi.Field, 'id' | 'name'> => ({ id, name })
const options = (...labels: string[]) => labels.map((label) => ({ label }))

describe('custom field rules', () => {
  it('checks a field as the server would', () => {
    const team = [field(1, '生日'), field(2, '会员等级')]
    expect(fieldFormProblem({ name: ' ', kind: 'text', options: [] }, team)).toBe('field_name_empty')
    expect(fieldFormProblem({ name: '字'.repeat(31), kind: 'text', options: [] }, team)).toBe('field_name_too_long')
    // 30 characters counted as code points: an emoji is one
    expect(fieldFormProblem({ name: '😀'.repeat(30), kind: 'text', options: [] }, team)).toBeNull()
    expect(fieldFormProblem({ name: '鞋码', kind: 'money', options: [] }, team)).toBe('field_kind_invalid')
    expect(fieldFormProblem({ name: '等级', kind: 'select', options: [] }, team)).toBe('field_options_empty')
    expect(fieldFormProblem({ name: '等级', kind: 'select', options: options(...Array.from({ length: 101 }, (_, i) => `${i}`)) }, team))
      .toBe('field_options_too_many')
    expect(fieldFormProblem({ name: '等级', kind: 'multi_select', options: options('金卡', ' ') }, team)).toBe('field_option_invalid')
    expect(fieldFormProblem({ name: '等级', kind: 'select', options: options('金卡', '字'.repeat(31)) }, team)).toBe('field_option_invalid')
    expect(fieldFormProblem({ name: '等级', kind: 'select', options: options('金卡', ' 金卡') }, team)).toBe('field_option_duplicate')
    expect(fieldFormProblem({ name: ' 生日 ', kind: 'date', options: [] }, team)).toBe('field_exists')
    // a field keeps its own name; options of a non-choice kind are not looked at
    expect(fieldFormProblem({ name: '生日', kind: 'date', options: options('') }, team, 1)).toBeNull()
    const full = Array.from({ length: 50 }, (_, i) => field(i + 1, `字段${i}`))
    expect(fieldFormProblem({ name: '新字段', kind: 'text', options: [] }, full)).toBe('field_limit')
    expect(fieldFormProblem({ name: '新字段', kind: 'text', options: [] }, full, 3)).toBeNull()
  })

  it('checks values as the server would', () => {
    for (const ok of ['42', '-3.5', '007.50', '123456789012345', '0.123456', '']) expect(fieldValueProblem('number', ok), ok).toBeNull()
    for (const bad of ['1e3', '1.', '.5', '-', '1234567890123456', '1.1234567', '3,5', '四十二']) expect(fieldValueProblem('number', bad), bad).toBe('number')
    expect(fieldValueProblem('text', '字'.repeat(200))).toBeNull()
    expect(fieldValueProblem('text', '字'.repeat(201))).toBe('text')
    expect(fieldValueProblem('date', '2024-02-29')).toBeNull()
    for (const bad of ['2023-02-29', '1899-12-31', '2101-01-01', '2024-1-01', '2024-13-01']) expect(fieldValueProblem('date', bad), bad).toBe('date')
    expect(isFieldDate('2100-12-31')).toBe(true)
  })

  it('shows a value as its text or its options\' labels', () => {
    const level: Pick<FieldsApi.Field, 'kind' | 'options'> = { kind: 'multi_select', options: [{ id: 1, label: '茶饮' }, { id: 2, label: '甜品' }] }
    expect(fieldValueText(level, { field_id: 1, value: '', option_ids: [2, 1, 9] })).toBe('甜品、茶饮、#9')
    expect(fieldValueText({ kind: 'number', options: [] }, { field_id: 2, value: '7.5', option_ids: [] })).toBe('7.5')
    expect(fieldValueText({ kind: 'text', options: [] }, undefined)).toBe('')
  })

  it('reads a field_changed entry, a known name winning over the first colon', () => {
    expect(fieldChange('会员等级: 金卡 → 银卡')).toEqual({ field: '会员等级', from: '金卡', to: '银卡' })
    expect(fieldChange('生日:  → 1990-05-01')).toEqual({ field: '生日', from: '', to: '1990-05-01' })
    expect(fieldChange('兴趣: 茶饮、甜品 → ')).toEqual({ field: '兴趣', from: '茶饮、甜品', to: '' })
    expect(fieldChange('备注: 时间: 周末 → 工作日', ['备注'])).toEqual({ field: '备注', from: '时间: 周末', to: '工作日' })
    expect(fieldChange('Note: a: b → c', ['Note: a', 'Note'])).toEqual({ field: 'Note: a', from: 'b', to: 'c' })
  })
})
