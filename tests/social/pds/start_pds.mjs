// Runs Bluesky's reference PDS and a PLC directory (@atproto/dev-env TestNetworkNoAppView)
// on 127.0.0.1 for the tests, with a stub AppView for the one call the Python client's
// login() makes (app.bsky.actor.getProfile). Prints one JSON line once ready:
//   {"pds_url": ..., "handle": ..., "password": ..., "did": ...}
// and stops when its standard input closes (the test session ended) or on SIGTERM.
// Run with Node 22 from .tools/pds (see .ci/setup-pds); NODE_PATH points at its modules.
import http from 'node:http'
import net from 'node:net'
import { createRequire } from 'node:module'

// The servers call listen(port) with no host, i.e. on every interface; keep them on
// loopback.
const listen = net.Server.prototype.listen
net.Server.prototype.listen = function (...args) {
  if (typeof args[0] === 'number' && (args.length === 1 || typeof args[1] === 'function')) {
    args.splice(1, 0, '127.0.0.1')
  } else if (typeof args[0] === 'object' && args[0] !== null && !args[0].host && !args[0].path) {
    args[0] = { ...args[0], host: '127.0.0.1' }
  }
  return listen.apply(this, args)
}

const require = createRequire(process.env.DEV_ENV_DIR + '/package.json')
const devEnvPath = require.resolve('@atproto/dev-env')
const { TestNetworkNoAppView } = await import(devEnvPath)

let network = null
const appview = http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://127.0.0.1')
  if (url.pathname === '/xrpc/app.bsky.actor.getProfile' && network) {
    const actor = url.searchParams.get('actor') || ''
    const account = await network.pds.ctx.accountManager.getAccount(actor)
    if (account) {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ did: account.did, handle: account.handle ?? actor }))
      return
    }
    res.writeHead(400, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ error: 'InvalidRequest', message: 'Profile not found' }))
    return
  }
  res.writeHead(501, { 'content-type': 'application/json' })
  res.end(JSON.stringify({ error: 'MethodNotImplemented', message: 'stub AppView' }))
})
await new Promise((resolve) => appview.listen(0, '127.0.0.1', resolve))
const appviewUrl = `http://127.0.0.1:${appview.address().port}`

network = await TestNetworkNoAppView.create({
  pds: { bskyAppViewUrl: appviewUrl, bskyAppViewDid: 'did:web:appview.localhost' },
})
const handle = 'council.test'
const password = 'council-app-password'
const agent = network.pds.getAgent()
const created = await agent.api.com.atproto.server.createAccount({
  handle,
  email: 'social@council.test',
  password,
})
process.stdout.write(
  JSON.stringify({
    pds_url: `http://127.0.0.1:${network.pds.port}`,
    handle,
    password,
    did: created.data.did,
  }) + '\n',
)

let stopping = false
async function stop() {
  if (stopping) return
  stopping = true
  try {
    await network.close()
  } finally {
    appview.close()
    process.exit(0)
  }
}
process.stdin.on('end', stop)
process.stdin.on('close', stop)
process.stdin.resume()
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
