// The media library (素材库) as the library page and the composer's picker show it: one page of the team's uploaded
// files at a time (paged on the server), filtered by kind and by a part of the filename.
import { ref } from 'vue'
import { listMediaApi, type MediaApi } from '@/api/media'
import { errorText } from '@/api/request'

/** The kind of media a file looks like, for an upload from the library page (WeCom's formats: JPG/PNG, MP4). */
export function mediaTypeOf(file: { name: string; type: string }): MediaApi.Type {
  const name = file.name.toLowerCase()
  if (file.type === 'image/png' || file.type === 'image/jpeg' || /\.(png|jpe?g)$/.test(name)) return 'image'
  if (file.type === 'video/mp4' || name.endsWith('.mp4')) return 'video'
  return 'file'
}

/** Whether WeCom still keeps the file's current media id (Koi uploads it again when a message goes out later). */
export function mediaFresh(item: { expires_at: number }, now = Date.now()): boolean {
  return item.expires_at > now
}

export function useMediaLibrary(pageSize = 20) {
  const items = ref<MediaApi.LibraryItem[]>([])
  const total = ref(0)
  const page = ref(1)
  const type = ref<MediaApi.Type | ''>('')
  const q = ref('')
  const loading = ref(false)
  const error = ref('')
  let seq = 0

  /** Loads page `p` (default: the current one) with the current filters; a later load wins over an earlier one. */
  async function load(p = page.value) {
    const mine = ++seq
    loading.value = true
    error.value = ''
    try {
      const got = await listMediaApi({ type: type.value, q: q.value.trim(), page: p, pageSize })
      if (mine !== seq) return
      // A page emptied by deletions: the last page that has files.
      if (!got.items.length && got.total > 0 && p > 1) return load(Math.ceil(got.total / pageSize))
      items.value = got.items
      total.value = got.total
      page.value = p
    } catch (e) {
      if (mine === seq) error.value = errorText(e)
    } finally {
      if (mine === seq) loading.value = false
    }
  }

  /** New filters: back to the first page. */
  function search() {
    return load(1)
  }

  return { items, total, page, type, q, loading, error, pageSize, load, search }
}
