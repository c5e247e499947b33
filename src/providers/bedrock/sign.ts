/** SigV4 signing of Bedrock runtime requests (service `bedrock`). */
import { Sha256 } from '@aws-crypto/sha256-js'
import { SignatureV4 } from '@smithy/signature-v4'
import { GatewayError } from '../../core/errors.ts'
import type { UpstreamRequest } from '../../upstream/types.ts'

export interface AwsCredentials { accessKeyId: string; secretAccessKey: string; sessionToken?: string }

function queryOf(search: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of search) out[k] = v
  return out
}

/** Returns a new request with host, x-amz-date, authorization (and x-amz-security-token) headers. */
export async function signBedrockRequest(req: UpstreamRequest, region: string, credentials: AwsCredentials, signingDate?: Date): Promise<UpstreamRequest> {
  if (!region) throw new GatewayError({ status: 500, code: 'internal_error', message: 'Bedrock provider has no region configured' })
  const origin = new URL(req.origin)
  const [path = '/', query = ''] = req.path.split('?', 2)
  const signer = new SignatureV4({ service: 'bedrock', region, credentials, sha256: Sha256 })
  const signed = await signer.sign(
    {
      method: req.method,
      protocol: origin.protocol,
      hostname: origin.hostname,
      ...(origin.port ? { port: Number(origin.port) } : {}),
      path,
      query: queryOf(new URLSearchParams(query)),
      headers: { ...req.headers, host: origin.host },
      body: req.body,
    },
    signingDate ? { signingDate } : {},
  )
  const headers: Record<string, string> = {}
  for (const [k, v] of Object.entries(signed.headers)) headers[k.toLowerCase()] = String(v)
  return { ...req, headers }
}
