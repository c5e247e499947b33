/**
 * SigV4 signing of Bedrock runtime requests (service `bedrock`). The AWS signing libraries are
 * imported on the first signature, so a gateway without a Bedrock call never loads them.
 */
import { GatewayError } from '../../core/errors.ts'
import type { UpstreamRequest } from '../../upstream/types.ts'

export interface AwsCredentials { accessKeyId: string; secretAccessKey: string; sessionToken?: string }

let aws: Promise<[typeof import('@smithy/signature-v4'), typeof import('@aws-crypto/sha256-js')]> | undefined
const signingLibraries = () => (aws ??= Promise.all([import('@smithy/signature-v4'), import('@aws-crypto/sha256-js')]))

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
  const [{ SignatureV4 }, { Sha256 }] = await signingLibraries()
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
