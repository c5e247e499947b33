/**
 * OpenAI content parts -> Anthropic content blocks. Parts Anthropic cannot take (audio, OpenAI file
 * ids) are refused with a 400 naming the part, rather than silently dropped from the prompt.
 */
import { invalidRequest } from '../../core/errors.ts'
import { isObject } from '../../core/json.ts'
import type { ContentPart } from '../../core/openai-chat.ts'
import type { AnthropicDocumentBlock, AnthropicImageBlock, AnthropicTextBlock } from './types.ts'

export type UserContentBlock = AnthropicTextBlock | AnthropicImageBlock | AnthropicDocumentBlock

const DATA_URL = /^data:([^;,]+)(?:;[^,]*)?;base64,(.*)$/s

/** Parses `data:<media type>;base64,<data>`; undefined when the URL is not a base64 data URL. */
export function parseDataUrl(url: string): { mediaType: string; data: string } | undefined {
  const m = DATA_URL.exec(url)
  if (!m || m[1] === undefined || m[2] === undefined) return undefined
  return { mediaType: m[1], data: m[2] }
}

/** Clients that know Anthropic (OpenRouter/LiteLLM style) put `cache_control` on parts; keep it. */
function cacheControlOf(part: object): { cache_control?: AnthropicTextBlock['cache_control'] } {
  const cc = (part as Record<string, unknown>)['cache_control']
  return isObject(cc) ? { cache_control: { ...cc } } : {}
}

export function textBlock(text: string, from?: object): AnthropicTextBlock {
  return { type: 'text', text, ...(from ? cacheControlOf(from) : {}) }
}

export function imageUrlToBlock(url: string, from: object): AnthropicImageBlock {
  if (url.startsWith('data:')) {
    const parsed = parseDataUrl(url)
    if (!parsed) throw invalidRequest('image_url data URLs must be base64 encoded (data:<media type>;base64,...)', 'messages')
    return { type: 'image', source: { type: 'base64', media_type: parsed.mediaType, data: parsed.data }, ...cacheControlOf(from) }
  }
  if (url.startsWith('https://') || url.startsWith('http://')) {
    return { type: 'image', source: { type: 'url', url }, ...cacheControlOf(from) }
  }
  throw invalidRequest('image_url must be an http(s) URL or a base64 data URL', 'messages')
}

/** One OpenAI part -> one Anthropic block, or undefined for an empty text part (Anthropic rejects empty text blocks). */
export function partToBlock(part: ContentPart): UserContentBlock | undefined {
  switch (part.type) {
    case 'text':
      return part.text === '' ? undefined : textBlock(part.text, part)
    case 'image_url':
      return imageUrlToBlock(part.image_url.url, part)
    case 'file': {
      const parsed = part.file.file_data === undefined ? undefined : parseDataUrl(part.file.file_data)
      if (!parsed) throw invalidRequest('file parts need file_data as a base64 data URL for Anthropic models (file_id is not supported)', 'messages')
      return { type: 'document', source: { type: 'base64', media_type: parsed.mediaType, data: parsed.data }, ...cacheControlOf(part) }
    }
    case 'input_audio':
      throw invalidRequest('input_audio parts are not supported by Anthropic models', 'messages')
    default:
      throw invalidRequest(`unsupported content part type '${(part as { type: unknown }).type as string}'`, 'messages')
  }
}

export function contentToBlocks(content: string | ContentPart[] | null | undefined): UserContentBlock[] {
  if (content === null || content === undefined || content === '') return []
  if (typeof content === 'string') return [textBlock(content)]
  const blocks: UserContentBlock[] = []
  for (const part of content) {
    const block = partToBlock(part)
    if (block) blocks.push(block)
  }
  return blocks
}
