import type { components } from './generated/schema'
import { query, requestClient } from './request'

type S = components['schemas']

export namespace AuthApi {
  export type Session = S['Session']
  export type Account = S['Account']
  export type Team = S['Team']
  export type SessionApp = S['SessionApp']
  export type AppKey = S['AppKey']
  export type SmsPurpose = S['SmsPurpose']
  export type SmsCodeSent = S['SmsCodeSent']
  export type RegisterRequest = S['RegisterRequest']
  export type LoginRequest = S['LoginRequest']
  export type PasswordResetRequest = S['PasswordResetRequest']
  export type ChangePasswordRequest = S['ChangePasswordRequest']
  export type ChangePhoneRequest = S['ChangePhoneRequest']
  export type DevSms = S['DevSms']
}

export function getSessionApi() {
  return requestClient.get<AuthApi.Session>('/api/v1/auth/session')
}

export function sendSmsCodeApi(phone: string, purpose: AuthApi.SmsPurpose) {
  return requestClient.post<AuthApi.SmsCodeSent>('/api/v1/auth/sms-codes', { phone, purpose })
}

export function registerApi(body: AuthApi.RegisterRequest) {
  return requestClient.post<AuthApi.Session>('/api/v1/auth/register', body)
}

export function loginApi(body: AuthApi.LoginRequest) {
  return requestClient.post<AuthApi.Session>('/api/v1/auth/login', body)
}

export function resetPasswordApi(body: AuthApi.PasswordResetRequest) {
  return requestClient.post<AuthApi.Session>('/api/v1/auth/password-reset', body)
}

export function logoutApi() {
  return requestClient.post<Record<string, never>>('/api/v1/auth/logout')
}

export function logoutAllApi() {
  return requestClient.post<{ revoked: number }>('/api/v1/auth/logout-all')
}

export function changePasswordApi(body: AuthApi.ChangePasswordRequest) {
  return requestClient.post<AuthApi.Session>('/api/v1/account/password', body)
}

export function changePhoneApi(body: AuthApi.ChangePhoneRequest) {
  return requestClient.post<AuthApi.Session>('/api/v1/account/phone', body)
}

export function updateProfileApi(name: string) {
  return requestClient.put<AuthApi.Session>('/api/v1/account/profile', { name })
}

/** Only with the console SMS provider; 404 `route_not_found` otherwise. */
export function getDevSmsInboxApi(phone = '') {
  return requestClient.get<{ items: AuthApi.DevSms[] }>(`/api/v1/dev/sms-inbox${query({ phone })}`)
}
