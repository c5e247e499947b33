/**
 * OpenAI function tools and tool_choice -> Anthropic tools and tool_choice. `strict` has no
 * Anthropic counterpart on client tools and is dropped; `$schema` is accepted by Anthropic and kept.
 */
import type { FunctionTool, ToolChoice } from '../../core/openai-chat.ts'
import type { AnthropicTool, AnthropicToolChoice } from './types.ts'

export function toolsToAnthropic(tools: readonly FunctionTool[]): AnthropicTool[] {
  return tools
    .filter(t => t.type === 'function')
    .map(t => {
      const tool: AnthropicTool = {
        name: t.function.name,
        input_schema: t.function.parameters ?? { type: 'object', properties: {} },
      }
      if (t.function.description !== undefined) tool.description = t.function.description
      return tool
    })
}

/** parallel_tool_calls=false becomes disable_parallel_tool_use (not expressible on `none`). */
export function toolChoiceToAnthropic(choice: ToolChoice | undefined, parallelToolCalls: boolean | undefined): AnthropicToolChoice | undefined {
  const disable = parallelToolCalls === false ? { disable_parallel_tool_use: true } : {}
  if (choice === 'none') return { type: 'none' }
  if (choice === 'required') return { type: 'any', ...disable }
  if (typeof choice === 'object' && choice !== null) return { type: 'tool', name: choice.function.name, ...disable }
  if (choice === 'auto' || parallelToolCalls === false) return { type: 'auto', ...disable }
  return undefined
}
