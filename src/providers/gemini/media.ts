/** Image and file parts of OpenAI messages as Gemini parts. */
import { invalidRequest } from '../../core/errors.ts'
import type { ContentPart } from '../../core/openai-chat.ts'
import type { JsonObject } from '../../core/json.ts'
import { nameMap } from '../../core/name-map.ts'

const DATA_URL = /^data:([^;,]+)?(?:;[^,]*)?;base64,(.*)$/s

const MIME_BY_EXTENSION: Record<string, string> = nameMap({
  png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp',
  heic: 'image/heic', heif: 'image/heif', pdf: 'application/pdf', mp3: 'audio/mp3', wav: 'audio/wav',
  mp4: 'video/mp4', txt: 'text/plain',
})

/** Gemini needs a MIME type for fileData; guess from the URL's extension (defaults to image/jpeg). */
export function guessMimeType(url: string): string {
  const path = url.split(/[?#]/, 1)[0] ?? ''
  const ext = /\.([a-z0-9]+)$/i.exec(path)?.[1]?.toLowerCase()
  return (ext && MIME_BY_EXTENSION[ext]) || 'image/jpeg'
}

function urlToPart(url: string, param: string): JsonObject {
  const data = DATA_URL.exec(url)
  if (data) return { inlineData: { mimeType: data[1] ?? 'application/octet-stream', data: data[2] ?? '' } }
  if (/^(https?|gs):\/\//i.test(url)) return { fileData: { fileUri: url, mimeType: guessMimeType(url) } }
  throw invalidRequest(`Unsupported URL for Gemini: expected a data: URL or an http(s) URL`, param)
}

export function contentPartToGemini(part: ContentPart, param: string): JsonObject | undefined {
  switch (part.type) {
    case 'text':
      return { text: part.text }
    case 'image_url':
      return urlToPart(part.image_url.url, param)
    case 'input_audio':
      return { inlineData: { mimeType: `audio/${part.input_audio.format}`, data: part.input_audio.data } }
    case 'file':
      if (part.file.file_data) return urlToPart(part.file.file_data, param)
      throw invalidRequest('Gemini cannot use OpenAI file ids; send the file inline as file_data', param)
    default:
      return undefined
  }
}
