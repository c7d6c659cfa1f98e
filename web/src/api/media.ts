import type { components } from './generated/schema'
import { query, requestClient, upload, type UploadOptions } from './request'

export namespace MediaApi {
  /** WeCom's kinds of temporary media that mass-message attachments use */
  export type Type = 'image' | 'video' | 'file'
  /**
   * A file uploaded to WeCom as temporary media (POST /api/v1/scrm/media). WeCom keeps it 3 days (`expires_at`, Unix
   * ms); Koi keeps the file and uploads it again when a message using `media_id` is sent later.
   */
  export interface Media {
    id: number
    media_id: string
    type: Type
    filename: string
    /** bytes */
    size: number
    expires_at: number
  }
}

/**
 * Uploads a file to WeCom as temporary media of `type`: the file's bytes as the body (not multipart) with its MIME
 * type as Content-Type, its name in the address. `options` follow the progress and cancel it.
 */
export function uploadMediaApi(
  file: Blob, type: MediaApi.Type, filename: string, contentType: string, options: UploadOptions = {},
) {
  return upload<MediaApi.Media>(`/api/v1/scrm/media${query({ type, filename })}`, file, contentType, options)
}

/** The address of the file Koi keeps for a media id it uploaded (an image shows inline), for previews. */
export function mediaFileUrl(mediaId: string): string {
  return `/api/v1/scrm/media/file${query({ media_id: mediaId })}`
}

export namespace MediaApi {
  /** A file of the media library (素材库): what the team uploaded, with who and when. */
  export type LibraryItem = components['schemas']['MediaLibraryItem']
  export interface LibraryPage {
    items: LibraryItem[]
    total: number
    page: number
    page_size: number
  }
}

/** The team's uploaded files, newest first; `type` '' for every kind, `q` a part of the filename. */
export function listMediaApi(params: { type?: MediaApi.Type | ''; q?: string; page: number; pageSize: number }) {
  return requestClient.get<MediaApi.LibraryPage>(
    `/api/v1/scrm/media${query({ type: params.type, q: params.q, page: params.page, page_size: params.pageSize })}`)
}

/** Deletes a file from the library (the uploader or an admin; refused while an unsent message uses it). */
export function deleteMediaApi(id: number) {
  return requestClient.delete<{ id: number }>(`/api/v1/scrm/media/${id}`)
}
